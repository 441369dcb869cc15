"""The four built-in committees, contributed through the industry hook like any outside one."""

from core import hookimpl

from plugins.industry.committees import labour, medical, property, traffic

NAME = "industry_committees"

BUILTIN = (medical.COMMITTEE, traffic.COMMITTEE, labour.COMMITTEE, property.COMMITTEE)


@hookimpl
def fengqiao_industry_committees(settings):
    return list(BUILTIN)
