"""The petition channel (访调对接); see docs/channels/petition.md."""

NAME = "petition"
