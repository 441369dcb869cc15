"""Supervisor pages: organisation overview, the mediator registry and performance, filing and
standardisation checklist, screening rounds."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template

from core import mediators as people
from core import organisations as orgs
from core.access import UserCtx
from core.cases import NotFound, Refused
from core.forms import FormErrors, validate_form
from core.tables import Training
from web.auth import current_user, requires_login
from web.forms import form_items
from web.rendering import render
from web.state import app_state

__all__ = ["OrgController"]


class OrgController(Controller):
    path = "/org"
    guards = [requires_login]

    @get("/", name="org_overview")
    async def overview(self, request: Request) -> Template:
        user: UserCtx = await current_user(request)
        data = await orgs.overview(user)
        return render(request, "pages/org.html", None, {
            "user": user, **data, "performance": await orgs.mediator_performance(user),
            "checklist": orgs.CHECKLIST, "screening_schema": orgs.ScreeningIn, "filing_schema": orgs.FilingIn,
            "errors": {}, "values": {}, "error_form": ""})

    @get("/mediators", name="org_mediators")
    async def mediators(self, request: Request) -> Template:
        user: UserCtx = await current_user(request)
        return render(request, "pages/mediators.html", None,
                      {"user": user, "mediators": await people.mediators_in_scope(user)})

    async def _mediator_page(self, request: Request, user_id: int, *, errors: dict[str, str] | None = None,
                             values: dict[str, Any] | None = None, error_form: str = "", status_code: int = 200) -> Template:
        user: UserCtx = await current_user(request)
        mediator = next((m for m in await people.mediators_in_scope(user) if m["id"] == user_id), None)
        if mediator is None:
            raise NotFoundException("调解员不存在或无权查看")
        profile = mediator["profile"] or {}
        trainings = await Training.select().where(Training.user == user_id).order_by(Training.held_on, ascending=False)
        return render(request, "pages/mediator.html", None, {
            "user": user, "mediator": mediator, "trainings": trainings,
            "profile_schema": people.ProfileIn, "training_schema": people.TrainingIn,
            "profile_values": values if error_form == "profile" else {
                k: profile.get(k) for k in ("employment", "certificate_no", "certificate_valid_until", "star_grade",
                                            "specialities", "public_employee", "phone")} | (
                {} if profile else {"employment": "part_time", "star_grade": 0, "specialities": []}),
            "training_values": values if error_form == "training" else {},
            "errors": errors or {}, "error_form": error_form}, status_code=status_code)

    @get("/mediators/{user_id:int}", name="org_mediator")
    async def mediator(self, request: Request, user_id: FromPath[int]) -> Template:
        return await self._mediator_page(request, user_id)

    async def _save(self, request: Request, user_id: int, error_form: str, action: Any) -> Any:
        user: UserCtx = await current_user(request)
        form = form_items(await request.form())
        try:
            await people.mediator_in_scope(user, user_id)  # 404 before anything else
            await action(user, form)
        except NotFound as exc:
            raise NotFoundException(exc.message) from exc
        except FormErrors as exc:
            return await self._mediator_page(request, user_id, errors=exc.errors, values=form, error_form=error_form,
                                             status_code=422)
        except Refused as exc:
            return await self._mediator_page(request, user_id, errors={"": exc.message}, values=form,
                                             error_form=error_form, status_code=403)
        return Redirect(path=f"/org/mediators/{user_id}", status_code=303)

    @post("/mediators/{user_id:int}/profile", name="org_mediator_profile")
    async def save_profile(self, request: Request, user_id: FromPath[int]) -> Any:
        codes = app_state(request).registry.codes
        return await self._save(request, user_id, "profile", lambda user, form: people.save_profile(
            user, user_id, validate_form(people.ProfileIn, form), codes))

    @post("/mediators/{user_id:int}/trainings", name="org_mediator_training")
    async def add_training(self, request: Request, user_id: FromPath[int]) -> Any:
        return await self._save(request, user_id, "training", lambda user, form: people.add_training(
            user, user_id, validate_form(people.TrainingIn, form)))

    async def _org_form(self, request: Request, org_id: int, error_form: str, action: Any) -> Any:
        user: UserCtx = await current_user(request)
        form = form_items(await request.form())
        try:
            await orgs.org_in_scope(user, org_id)  # 404 before anything else
            await action(user, form)
        except NotFound as exc:
            raise NotFoundException(exc.message) from exc
        except (FormErrors, Refused) as exc:
            errors = exc.errors if isinstance(exc, FormErrors) else {"": exc.message}
            data = await orgs.overview(user)
            return render(request, "pages/org.html", None, {
                "user": user, **data, "performance": await orgs.mediator_performance(user),
                "checklist": orgs.CHECKLIST, "screening_schema": orgs.ScreeningIn, "filing_schema": orgs.FilingIn,
                "errors": errors, "values": form, "error_form": f"{error_form}:{org_id}"},
                status_code=422 if isinstance(exc, FormErrors) else 403)
        return Redirect(path="/org/", status_code=303)

    @post("/organisations/{org_id:int}/filing", name="org_filing")
    async def filing(self, request: Request, org_id: FromPath[int]) -> Any:
        return await self._org_form(request, org_id, "filing", lambda user, form: orgs.save_filing(
            user, org_id, validate_form(orgs.FilingIn, form)))

    @post("/organisations/{org_id:int}/screening", name="org_screening")
    async def screening(self, request: Request, org_id: FromPath[int]) -> Any:
        return await self._org_form(request, org_id, "screening", lambda user, form: orgs.record_screening(
            user, org_id, validate_form(orgs.ScreeningIn, form)))
