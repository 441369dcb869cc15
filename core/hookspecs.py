"""Every hook of Fengqiao, typed, with its contract.

Registration hooks (``fengqiao_register_*``) are called once at start-up. Each returns a list of
frozen value objects (``core.channels``); the registry validates them and refuses duplicates. Request-
and event-time hooks may return awaitables; the caller awaits them (``core.plugins.await_me_maybe``).

Implement a hook with :data:`core.hookimpl`::

    from core import hookimpl

    @hookimpl
    def fengqiao_register_channels(settings):
        return [Channel(key="court", ...)]
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from core.channels import Channel, HandoffProtocol, IntakeForm, StatisticDef
    from core.deadlines import DeadlineRule
    from core.documents.model import AgreementRequirement, DocumentDef
    from core.registry import Registry
    from core.settings import Settings

__all__ = ["NAME", "hookspec", "hookimpl"]

NAME = "fengqiao"
"""Project name shared by the hook markers, the plugin manager and the entry-point group."""

hookspec = pluggy.HookspecMarker(NAME)
hookimpl = pluggy.HookimplMarker(NAME)


@hookspec
def fengqiao_register_channels(settings: Settings) -> list[Channel]:
    """Register the channels this plugin provides.

    Called once at start-up.

    :param settings: the deployment settings (read your ``[channels.<key>]`` section from it).
    :return: a list of :class:`core.channels.Channel`. A key registered by two plugins is a start-up
        error naming both plugins. Channels the deployment did not enable are dropped afterwards.
    """


@hookspec
def fengqiao_register_intake_forms(settings: Settings) -> list[IntakeForm]:
    """Register intake forms, one per referral kind of a channel.

    Called once at start-up.

    :param settings: the deployment settings.
    :return: a list of :class:`core.channels.IntakeForm`; ``(channel, kind)`` must be unique and
        the channel must be registered.
    """


@hookspec
def fengqiao_register_handoff_protocols(settings: Settings) -> list[HandoffProtocol]:
    """Register the handoff protocol (state machine) of each channel.

    Called once at start-up. Every registered channel needs exactly one protocol.

    :param settings: the deployment settings.
    :return: a list of :class:`core.channels.HandoffProtocol`.
    """


@hookspec
def fengqiao_register_deadline_rules(settings: Settings) -> list[DeadlineRule]:
    """Register statutory deadline rules (legal calendar), each with its citation.

    Called once at start-up. Keys are namespaced ``<channel>_<name>``. The deployment's
    ``[deadlines.<key>]`` settings override limits of rules marked ``overridable``.

    :param settings: the deployment settings.
    :return: a list of :class:`core.deadlines.DeadlineRule`; keys must be unique.
    """


@hookspec
def fengqiao_register_statistics(settings: Settings) -> list[StatisticDef]:
    """Register statistic definitions (named ``<channel>_<name>_<unit>``).

    Called once at start-up.

    :param settings: the deployment settings.
    :return: a list of :class:`core.channels.StatisticDef`; names must be unique.
    """


@hookspec
def fengqiao_register_routes(settings: Settings) -> list[Any]:
    """Add Litestar route handlers (controllers, routers or handler functions).

    Called once when the web app is built. Routes of a channel belong under
    ``/channels/<key>/``; routes of a disabled channel are never registered.

    :param settings: the deployment settings.
    :return: a list of Litestar route handlers.
    """


@hookspec
def fengqiao_case_panels(case: dict[str, Any], user: dict[str, Any], registry: Registry) -> Any:
    """Contribute an HTML panel to a case page (a slot; core templates are never overridden).

    Called on every case page render, for the plugins of enabled channels.

    :param case: the case as a dict (``id``, ``number``, ``channel``, ``status``, ``intake`` …).
    :param user: the signed-in user as a dict (``id``, ``role``, ``room``, ``csrf_token`` — put it in a
        hidden ``_csrf_token`` field so a panel's forms also work without JavaScript).
    :param registry: the running deployment's :class:`core.registry.Registry` (channel documents …).
    :return: ``None``, or a dict ``{"title": str, "html": markupsafe.Markup}``, or a dict
        ``{"title": str, "template": "<plugin>/_panel.html", "context": {...}}`` rendered with the
        app's Jinja environment (the plugin's own ``templates/`` folder is searched; the template sees
        ``panel.context``, ``user`` and the page's other variables), or an awaitable of either.
    """


@hookspec
def fengqiao_case_page_reads(case_id: int, registry: Registry) -> Any:
    """Name the statements a plugin's case panel will run, so that the case page sends them with its
    own reads — in one hop to SQLite's database thread, one round trip to PostgreSQL — instead of one
    at a time while the panels are built.

    Called on every case page, before the case row is read (the reads may use only its id), inside the
    page's read transaction; the case may yet turn out to be outside the user's scope, in which case
    nothing read is shown.

    :param case_id: the id of the case being shown.
    :param registry: the running deployment's :class:`core.registry.Registry`.
    :return: ``None`` or a sequence of :class:`core.sql.Read`. While the panels are built, the first
        ``core.sql`` read of exactly one of these statements (same SQL text, values and JSON columns:
        build both from one function) gets the rows read in the batch; any other read goes to the
        database as usual. A statement named but not then read costs only its execution.
    """


@hookspec
def fengqiao_case_registered(case: dict[str, Any], registry: Registry) -> Any:
    """React to a newly registered case, inside the transaction that creates it.

    Called after the case, its parties and its ``case.registered`` event are written and before
    commit; raising aborts the registration (nothing is stored). Use it for rollups and similar
    bookkeeping that must never disagree with the case table.

    :param case: ``{"id", "number", "room", "channel", "kind", "status", "state", "dispute_type",
        "source", "amount" (``Decimal`` or ``None``), "people_count", "registered_at", "partner_id",
        "external_id"}``.
    :param registry: the running deployment's :class:`core.registry.Registry` (settings, code lists …).
    :return: ``None`` or an awaitable resolving to ``None``.
    """


@hookspec
def fengqiao_case_transitioned(event: dict[str, Any], registry: Registry) -> Any:
    """React to a case state change, inside the transaction that made it.

    Called after the case row and its event row are written and before commit; raising aborts
    the whole change. Use it to write outbox rows, schedule follow-ups and the like — never for
    slow I/O (deliver over the network from a worker instead).

    :param event: ``{"case_id", "case_number", "channel", "transition", "type", "from_state",
        "to_state", "status", "partner_event", "data", "event_id", "partner_id", "external_id",
        "occurred_at"}`` (``occurred_at`` is the timezone-aware time of the change).
    :param registry: the running deployment's :class:`core.registry.Registry`.
    :return: ``None`` or an awaitable resolving to ``None``.
    """


@hookspec
def fengqiao_register_documents(settings: Settings) -> list[DocumentDef]:
    """Register the documents (文书) this plugin produces for cases, as data.

    Called once at start-up. Each document has a key, a title, a layout (or a ``.docx`` template of
    the plugin's own), the channels, intake kinds and dispute types it applies to, the 卷宗 item it
    belongs to, whether the case file must hold it before archiving, and optionally a context builder
    and an availability predicate. The core registers the standard people's-mediation documents
    through the built-in ``documents`` plugin.

    :param settings: the deployment settings.
    :return: a list of :class:`core.documents.model.DocumentDef`. A key registered by two plugins
        is a start-up error naming both; a document naming an uninstalled channel is refused; documents
        of disabled channels are dropped. A document marked ``required_for_archive`` must be enforced
        by the archive transition of every channel it applies to
        (``core.documents.guards.require_case_file(extra=…)``), else start-up fails.
    """


@hookspec
def fengqiao_register_agreement_requirements(settings: Settings) -> list[AgreementRequirement]:
    """Register items a channel's agreements must contain before they may be marked signed.

    Called once at start-up. The core's own rules (人民调解法 第二十九条: parties, facts and
    responsibilities, terms, manner and time of performance; no vague wording; 电子签名法 第三条) always
    apply; channels add theirs (police, procuratorate and traffic agreements differ). Each requirement's
    ``check`` receives a :class:`core.documents.model.AgreementCheck` and returns ``None`` or the
    refusal message; build common ones with ``core.documents.model.must_mention`` and
    ``intake_field_required``.

    :param settings: the deployment settings.
    :return: a list of :class:`core.documents.model.AgreementRequirement`; keys must be unique and the
        channels they name installed.
    """


@hookspec
def fengqiao_agreement_fulfilment_changed(case_id: int, registry: Registry) -> Any:
    """React to a change of an agreement's fulfilment (履行) state, inside the transaction that made it.

    Called when a follow-up records performance (``performed``, ``partial``, ``breached``); raising
    aborts the change. Rollups of performed agreements use it.

    :param case_id: the case whose agreement changed.
    :param registry: the running deployment's :class:`core.registry.Registry`.
    :return: ``None`` or an awaitable resolving to ``None``.
    """


@hookspec
def fengqiao_check_session(
    case: dict[str, Any], session: dict[str, Any], sessions: list[dict[str, Any]], registry: Registry
) -> Any:
    """Check a mediation session before it is recorded (a session-scheduling rule of a channel).

    Called by ``core.cases.record_session`` inside its write transaction, after the case row is locked
    and before the session is written, for every case; a plugin looks at ``case["channel"]`` itself.
    Use it for rules such as "a minor's guardian must attend" or "a second session only within 7
    working days of the first" (公安机关办理行政案件程序规定 第一百八十一条、第一百八十三条).

    :param case: the case row as a dict (``id``, ``channel``, ``kind``, ``status``, ``state``, ``intake``
        decoded …).
    :param session: the session as entered (``held_at``, ``place``, ``online``, ``attendees``,
        ``record``, ``outcome``).
    :param sessions: the sessions already recorded on the case, oldest first (dicts with ``held_at`` …).
    :param registry: the running deployment's :class:`core.registry.Registry` (calendar, settings …).
    :return: ``None`` when the session may be recorded; else a refusal message (``str``, answered 409)
        or a dict of session form field → message (answered 422); or an awaitable of either. Nothing
        is stored when any plugin refuses.
    """


@hookspec(historic=True)
def fengqiao_addhooks(pluginmanager: pluggy.PluginManager) -> None:
    """Add the hookspecs of a plugin that is itself a host for sub-plugins (pytest's ``pytest_addhooks``).

    A historic hook: called when the implementing plugin is registered, before ``check_pending``,
    so that sub-plugins registered before or after it (built-in or through entry points) may
    implement the new hooks. ``plugins.industry`` uses it for ``fengqiao_industry_committees``.

    :param pluginmanager: the deployment's plugin manager; call ``pluginmanager.add_hookspecs(module)``.
    :return: ``None``.
    """


@hookspec
def fengqiao_send_sms(phone: str, text: str, room_id: str, registry: Registry) -> Any:
    """Send a text message to a party's phone through an SMS gateway.

    Called after the message is stored (outside any transaction), for every plugin until one
    answers. Without a gateway plugin the message stays on the room's outbox page for a mediator to
    read out to the party (the default for rooms without an SMS contract).

    :param phone: the full phone number (never log it).
    :param text: the message body (may hold a one-time code; never log it).
    :param room_id: the sending room's key.
    :param registry: the running deployment's :class:`core.registry.Registry`.
    :return: ``None`` (not handled), or the gateway's name when it accepted the message (an
        awaitable is allowed); raising marks the message failed.
    """


@hookspec
def fengqiao_sweep(registry: Registry) -> Any:
    """Periodic work (the in-process sweeper runs it at start-up and then hourly, after the deadline
    sweep; ``fengqiao deadlines sweep`` runs it once): reminders, expiries and the like.

    Each implementation runs its own transactions; an exception is logged and the next run retries.

    :param registry: the running deployment's :class:`core.registry.Registry`.
    :return: ``None`` or an awaitable resolving to ``None``.
    """


@hookspec
def fengqiao_register_event_labels(settings: Settings) -> dict[str, str]:
    """Label the case-log event types this plugin writes (shown on the case page's timeline).

    Called once at start-up. Transitions are labelled by their protocol; this is for other events a
    plugin writes with ``core.cases.write_event`` (``documents.item_recorded``, ``online.link_sent`` …).

    :param settings: the deployment settings.
    :return: a dict of event type → Chinese label. A type labelled differently by two plugins is a
        start-up error naming both.
    """
