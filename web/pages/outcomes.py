"""One shape for the pages' small actions (退回, 撤回, 加签, 抄送, 催办, 撤销, 评价, 委托 …): run the service
in the request's unit of work; a refusal the user can fix is flashed in their language and changes
nothing, a success commits and is flashed — either way the user goes back to the page they came from."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import flash, redirect
from werkzeug.wrappers import Response

from engine.db import UnitOfWork
from engine.errors import Conflict, InvalidData
from web.context import uow
from web.pages.i18n import translated_message


def act(action: Callable[[UnitOfWork], Any], success: str | Callable[[Any], str], back: str) -> Response:
    """``success``: the message, or a function of the action's result giving it."""
    work = uow()
    try:
        result = action(work)
    except (InvalidData, Conflict) as refused:
        work.session.rollback()
        flash(translated_message(refused.message), "error")
        return redirect(back)
    work.commit()
    flash(success(result) if callable(success) else success, "success")
    return redirect(back)
