"""Printable documents (文书) of a case: numbered notices and decisions, rendered to PDF and stored.

Kinds (:data:`KINDS`) are the same for every process — 受理通知书, 不予受理决定书, 补正材料通知书 (listing
every missing item once: 一次性告知), 准予 / 不予许可决定书, the licence certificate and the 告知书 of
petitions — each with a Jinja2 template under ``templates/documents/``, the word its number carries and
the case statuses in which it may be issued. A process says which kinds staff may print on demand
(``documents = acceptance_notice, correction_notice``) and how they are numbered (``documentNumber``, a
pattern of ``engine.numbering`` where ``{kind}`` stands for the kind's word: ``津人社{kind}字〔{year}〕第{seq:4}号``
gives 津人社受字〔2026〕第0001号); a service task issues one as a step (operator ``documents.issue``).

Issued once: a case has at most one document of a kind. Issuing it again returns the stored one —
re-printing gives the same number and the same bytes, because what the office served must stay what
it served. The exception is the 补正材料通知书: its step issues a new one in each 补正 round (each lists
what that round lacks); issuing it by hand returns the latest.

The PDF is stored in the database with its SHA-256, number, issuer and time, in the transaction that
draws the number (like attachments: a crash loses neither nor leaves one without the other). Each
document carries a verification code (核验码), printed on it with a QR code when the deployment's public
address is known; ``/verify/<code>`` shows the number, kind, office, date and the case's status — never
a name or case data.

Layouts: a kind's template is the platform's, unless the module owning the process brings its own for
that process (``<module templates>/<process key>/<kind>.html``, e.g. the 人力资源服务许可证 of ``hr_licence``
with its 许可证编号, 服务范围 and 有效期); every template sees the case's variables as ``data``. A step may
give the number the document carries when the case already drew it (a licence's 文号 and 许可证编号 are
the licence's own numbers, drawn by its module's operator).

Rendering: WeasyPrint, A4 with GB/T 9704-like margins, AR PL UMing (a 宋体 / Ming face) for the body and
WenQuanYi Micro Hei for the red header: both Debian font packages that ``make install`` installs and
that WeasyPrint embeds (subset: a one-page notice is about 45 KB). The templates inline everything; the URL
fetcher refuses every address, so no case text can make the renderer read a file or call a server.
"""
from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import segno
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, select
from sqlalchemy.orm import Mapped, Session, deferred, mapped_column

from engine import case_clock, lifecycle, numbering, query_code
from engine.actors import Actor, region_condition
from engine.db import Base, utcnow
from engine.definitions import latest_definition
from engine.errors import Conflict, Forbidden, InvalidData, NotFound
from engine.models import ProcessInstance
from engine.operators import OperatorContext, OperatorRegistry
from engine.runtime import WorkflowEngine
from services.platform.identity import Region
from services.platform.jobs import Job, JobContext, JobService

CST = timedelta(hours=8)
TEMPLATES = Path(__file__).parent / "templates" / "documents"
DEFAULT_NUMBER = "{region}{kind}字〔{year}〕第{seq:4}号"
DEFAULT_OFFICE = "人力资源和社会保障局"  # after the region's name, unless the deployment or the process says otherwise
FONTS = ("AR PL UMing CN", "WenQuanYi Micro Hei")  # body (宋体-like), 红头 (黑体-like)
FONT_PACKAGES = "fonts-arphic-uming fonts-wqy-microhei"
NOT_FOUND = "文书不存在或不在您的管辖范围内"
# the process modules' own layouts (ProcessModule.document_templates), searched before the platform's
TEMPLATE_DIRS: list[Path] = []

# where a 受理通知书 may be issued by hand: 补正 is left out, since many processes ask for material before
# 受理 (a step that issues it after a later 补正 does so whatever the status)
ACCEPTED_ONWARD = frozenset({"accepted", "special_started", "special_ended", "closed_approved", "closed_rejected"})


@dataclass(frozen=True)
class DocumentKind:
    key: str
    title: str
    word: str  # what the kind puts into its number (津人社{受}字…)
    statuses: frozenset[str]  # the case statuses in which it may be issued
    once: bool = True  # one per case; False: a step issues one each time it runs (each 补正 round its notice)

    @property
    def template(self) -> str:
        return f"{self.key}.html"


KINDS: dict[str, DocumentKind] = {kind.key: kind for kind in (
    DocumentKind("acceptance_notice", "受理通知书", "受", ACCEPTED_ONWARD),
    DocumentKind("refusal_decision", "不予受理决定书", "不受", frozenset({"refused"})),
    DocumentKind("correction_notice", "补正材料通知书", "补", frozenset({"correction_started"}), once=False),
    DocumentKind("approval_decision", "准予许可决定书", "许", frozenset({"closed_approved"})),
    DocumentKind("denial_decision", "不予许可决定书", "不许", frozenset({"closed_rejected"})),
    DocumentKind("licence_certificate", "许可证", "证", frozenset({"closed_approved"})),
    DocumentKind("petition_notice", "告知书", "告", frozenset(lifecycle.CASE_STATUSES) - {"withdrawn", "cancelled"}),
)}


class CaseDocument(Base):
    """One issued document: its number, verification code, PDF and who issued it when."""

    __tablename__ = "case_document"
    __table_args__ = (Index("ix_document_instance", "instance_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"))
    kind: Mapped[str] = mapped_column(String(40))
    number: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(100))
    verify_code: Mapped[str] = mapped_column(String(16), unique=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = deferred(mapped_column(LargeBinary, nullable=False))
    issued_by: Mapped[str] = mapped_column(String(100))
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)


@dataclass(frozen=True)
class Verification:
    """What a verification code tells anyone: no name, no case data."""

    number: str
    title: str
    office: str
    issued_on: str  # China Standard Time day
    business_key: str
    case_status: str


def number_problems(pattern: str) -> list[str]:
    """Deploy-time check of a process's ``documentNumber``."""
    if "{kind}" not in pattern:
        return ["documentNumber 须含 {kind}（文书种类字，如 受、补、许），否则不同文书会共用一个序号"]
    return numbering.problems(pattern.replace("{kind}", "受"))


def kinds_problems(value: str) -> list[str]:
    """Deploy-time check of a process's ``documents`` (the kinds staff may print on demand)."""
    return [f"documents 中的 {key} 不是文书种类（可用：{'、'.join(KINDS)}）"
            for key in _keys(value) if key not in KINDS]


def _keys(value: str) -> list[str]:
    return [key.strip() for key in value.split(",") if key.strip()]


class DocumentService:
    def __init__(self, engine: WorkflowEngine, *, issuing_office: str, public_url: str = "",
                 seals_dir: Path | None = None):
        self.engine = engine
        self.issuing_office = issuing_office
        self.public_url = public_url.rstrip("/")
        self.seals_dir = seals_dir

    # ------------------------------------------------------------------ reading
    def for_case(self, session: Session, instance_id: int) -> list[CaseDocument]:
        """The documents of a case the caller has already been allowed to read."""
        return list(session.scalars(select(CaseDocument).where(CaseDocument.instance_id == instance_id)
                                    .order_by(CaseDocument.id)))

    def get_visible(self, session: Session, actor: Actor, instance_id: int, document_id: int) -> CaseDocument:
        """A document of a case ``actor`` may read (its applicant or staff of its region); NotFound otherwise."""
        self.engine.get_instance(session, instance_id, actor)
        document = session.get(CaseDocument, document_id)
        if document is None or document.instance_id != instance_id:
            raise NotFound(NOT_FOUND)
        return document

    def printable_kinds(self, session: Session, actor: Actor, instance: ProcessInstance) -> list[DocumentKind]:
        """The kinds ``actor`` may issue or re-print for the case now (empty for applicants)."""
        if not self.engine.is_staff_of(actor, instance):
            return []
        offered = _keys(self.engine.process_properties(session, instance).get("documents", ""))
        return [KINDS[key] for key in offered if key in KINDS and instance.case_status in KINDS[key].statuses]

    def verify(self, session: Session, code: str) -> Verification:
        normalised = query_code.normalise(code)
        document = session.scalar(select(CaseDocument).where(CaseDocument.verify_code == normalised)) \
            if normalised else None
        if document is None:
            raise NotFound("核验码不正确，没有对应的文书")
        instance = session.get(ProcessInstance, document.instance_id)
        assert instance is not None  # a document's case is never deleted (foreign key)
        return Verification(document.number, document.title, self._office(session, instance),
                            _day(document.issued_at), instance.business_key,
                            lifecycle.label(instance.case_status))

    # ------------------------------------------------------------------ issuing
    def issue_on_demand(self, session: Session, actor: Actor, instance_id: int, kind: str) -> CaseDocument:
        """Issue (or re-print) a document by hand: staff of the case's region, a kind the process offers
        and the case's status allows."""
        instance = self.engine.get_instance(session, instance_id, actor)
        if not self.engine.is_staff_of(actor, instance):
            raise Forbidden("只有办理机关的工作人员可以出具文书")
        if kind not in {k.key for k in self.printable_kinds(session, actor, instance)}:
            title = KINDS[kind].title if kind in KINDS else kind
            raise Conflict("办件当前状态（%(status)s）不能出具%(document)s"
                           % dict(status=lifecycle.label(instance.case_status), document=title))
        # the case's row lock: two clicks on 出具 at once give one document, not two numbers
        session.scalars(select(ProcessInstance.id).where(ProcessInstance.id == instance.id).with_for_update()).all()
        return self.issue(session, instance, kind, actor.username)

    def issue(self, session: Session, instance: ProcessInstance, kind: str, issued_by: str,
              data: dict[str, Any] | None = None, *, by_step: bool = False, number: str = "") -> CaseDocument:
        """The case's document of ``kind``: the stored one (the latest), or a new one numbered, rendered
        and stored in the caller's transaction — always a new one when a step issues a kind that is not
        issued once. ``data``: the case variables when the caller has them (a step); ``number``: the
        number it carries when the case drew it already (else one is drawn from ``documentNumber``)."""
        if kind not in KINDS:
            raise InvalidData("%(kind)s 不是文书种类（可用：%(kinds)s）" % dict(kind=kind, kinds="、".join(KINDS)))
        existing = session.scalar(select(CaseDocument).where(CaseDocument.instance_id == instance.id,
                                                             CaseDocument.kind == kind)
                                  .order_by(CaseDocument.id.desc()).limit(1))
        if existing is not None and (KINDS[kind].once or not by_step):
            return existing
        missing = missing_fonts()
        if missing:
            raise InvalidData("服务器未安装文书所需的中文字体（%(fonts)s），无法生成文书；"
                              "请管理员运行 make install 或安装 Debian 软件包 %(packages)s"
                              % dict(fonts="、".join(missing), packages=FONT_PACKAGES))
        spec = KINDS[kind]
        properties = self.engine.process_properties(session, instance)
        pattern = (properties.get("documentNumber") or DEFAULT_NUMBER).replace("{kind}", spec.word)
        now = utcnow()
        number = number or numbering.draw(session, pattern, at=now, region=instance.region_code,
                                          taken=lambda candidate: session.scalar(
                                              select(CaseDocument.id).where(CaseDocument.number == candidate))
                                          is not None)
        code = query_code.new_code()
        case_data = data if data is not None else self.engine.instance_data(session, instance)
        html = self.render_html(session, instance, spec, number, code, now, case_data, properties)
        content = render_pdf(html)
        document = CaseDocument(instance_id=instance.id, kind=kind, number=number, title=spec.title,
                                verify_code=code, sha256=hashlib.sha256(content).hexdigest(), size=len(content),
                                content=content, issued_by=issued_by, issued_at=now)
        session.add(document)
        session.flush()
        return document

    def render_html(self, session: Session, instance: ProcessInstance, spec: DocumentKind, number: str,
                    code: str, at: datetime, data: dict[str, Any], properties: dict[str, str]) -> str:
        deployed = self.engine.specs.get(session, instance.definition_id)
        verify_url = f"{self.public_url}/verify/{code}" if self.public_url else ""
        # a step right after 受理 issues its notice before the action's end starts the clock: count from now
        accepted_at = instance.clock_started_at or at
        due = case_clock.due_dates(deployed.clock, accepted_at, instance.clock_paused_days,
                                   self.engine.due_calculator) if deployed.clock.declared else {}
        context = {
            "kind": spec, "number": number, "office": self._office(session, instance, properties),
            "applicant": instance.submitter or instance.started_by, "case": instance,
            "process_name": deployed.name or instance.process_key, "case_title": instance.title,
            "matter": (deployed.name or instance.process_key).removesuffix("申请"),  # …提出的{matter}申请
            "received_on": _day(instance.started_at), "accepted_on": _day(accepted_at),
            "statutory_days": deployed.clock.statutory, "promised_days": deployed.clock.promised,
            "statutory_due_on": _day(due.get("statutory_due_at")), "promised_due_on": _day(due.get("promised_due_at")),
            "reason": str(data.get("conclusion") or data.get("reason") or ""),
            "items": correction_items(data.get("correction_items")),
            "issued_on": _day(at), "verify_code": query_code.shown(code), "verify_url": verify_url,
            "qr_svg": segno.make(verify_url, error="m").svg_inline(scale=2, border=0) if verify_url else "",
            "seal": self._seal(instance.region_code), "fonts": FONTS, "data": data,
        }
        return _templates(tuple(TEMPLATE_DIRS)).select_template(
            [f"{instance.process_key}/{spec.template}", spec.template]).render(context)

    # ------------------------------------------------------------------ helpers
    def _office(self, session: Session, instance: ProcessInstance, properties: dict[str, str] | None = None) -> str:
        """The issuing office: the region's full name and the office (``issuingOffice`` of the process,
        else the deployment's), e.g. 天津市和平区人力资源和社会保障局."""
        properties = properties if properties is not None else self.engine.process_properties(session, instance)
        return region_name(session, instance.region_code) + (properties.get("issuingOffice") or self.issuing_office)

    def _seal(self, region_code: str) -> str:
        """The region's seal image as a data URI (``<seals dir>/<region>.png``), or "" (stamped by hand)."""
        if self.seals_dir is None:
            return ""
        path = self.seals_dir / f"{region_code}.png"
        return f"data:image/png;base64,{base64.b64encode(path.read_bytes()).decode()}" if path.is_file() else ""


def region_name(session: Session, code: str) -> str:
    """天津市和平区 for 120101: the names of the region and the levels above it, without 市辖区 and the ministry."""
    chain = [c for c in dict.fromkeys((code[:2] + "0000", code[:4] + "00", code)) if c != "000000"]
    names = {r.code: r for r in session.scalars(select(Region).where(Region.code.in_(chain)))}
    full = ""
    for part in (names[c].name for c in chain if c in names):
        if part.endswith("市辖区"):
            continue
        full = part if part.startswith(full) else full + part
    return full


def correction_items(value: Any) -> list[str]:
    """The items a 补正材料通知书 lists, each once, in the order given (a list, or one per line)."""
    raw: Iterable[Any] = value.splitlines() if isinstance(value, str) else value if isinstance(value, list) else ()
    return list(dict.fromkeys(text for item in raw if (text := str(item).strip())))


def _day(value: datetime | None) -> str:
    """2026年12月2日 (documents write days without leading zeros), China Standard Time."""
    if value is None:
        return ""
    local = value + CST
    return f"{local.year}年{local.month}月{local.day}日"


@cache
def _templates(module_dirs: tuple[Path, ...]) -> Environment:
    return Environment(loader=FileSystemLoader([*module_dirs, TEMPLATES]), autoescape=select_autoescape(default=True),
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def render_pdf(html: str) -> bytes:
    from weasyprint import HTML  # imported on first use: it loads Pango, which the web pages never need
    from weasyprint.urls import URLFetcher

    return HTML(string=html, url_fetcher=URLFetcher(allowed_protocols=("data",))).write_pdf()


@cache
def missing_fonts() -> tuple[str, ...]:
    """The document fonts fontconfig does not know (checked once per process)."""
    if shutil.which("fc-list") is None:
        return FONTS
    listed = subprocess.run(["fc-list", ":", "family"], capture_output=True, text=True, check=False).stdout
    return tuple(font for font in FONTS if font not in listed)


def register_operator(registry: OperatorRegistry, documents: DocumentService) -> None:
    """``documents.issue`` for service tasks (parameter ``kind``): the step issues the case's document
    in its transaction; the result is its number (a step that runs again returns the same one)."""

    @registry.register("documents.issue", example={"number": "津人社受字〔2026〕第0001号", "kind": "acceptance_notice"})
    def issue_operator(ctx: OperatorContext, kind: str, number: str = "") -> dict[str, str]:
        instance = ctx.session.get(ProcessInstance, ctx.instance_id)
        if instance is None:
            raise NotFound("办件不存在")
        document = documents.issue(ctx.session, instance, kind, ctx.actor, data=ctx.data, by_step=True,
                                   number=number)
        return {"number": document.number, "kind": kind}


PROCESS_PROPERTY_CHECKS = {"documents": kinds_problems, "documentNumber": number_problems}
BATCH = "documents.print_batch"
MAX_BATCH = 5000  # cases one batch prints


def batch_candidates(session: Session, process_key: str, kind: str, region_code: str) -> list[int]:
    """The cases of ``process_key`` in ``region_code`` (and below) that may have a ``kind`` document and do
    not have one yet, oldest first, at most MAX_BATCH."""
    spec = KINDS[kind]
    has_one = select(CaseDocument.id).where(CaseDocument.instance_id == ProcessInstance.id,
                                            CaseDocument.kind == kind).exists()
    return list(session.scalars(
        select(ProcessInstance.id).where(ProcessInstance.process_key == process_key,
                                         region_condition(ProcessInstance.region_code, [region_code]),
                                         ProcessInstance.case_status.in_(spec.statuses), ~has_one)
        .order_by(ProcessInstance.id).limit(MAX_BATCH)))


def submit_batch(session: Session, jobs: JobService, after_commit: Callable[[Callable[[], None]], None],
                 documents: DocumentService, actor: Actor, process_key: str, kind: str, region_code: str) -> Job:
    """批量打印: a job that issues ``kind`` for every case of the process in the region that lacks it.
    Staff of the region may start it for a kind the process offers (``documents``)."""
    if kind not in KINDS:
        raise InvalidData("%(kind)s 不是文书种类" % dict(kind=kind))
    if not documents.engine.is_staff(actor, region_code):
        raise Forbidden("只有本区划办理机关的工作人员可以批量出具文书")
    definition = latest_definition(session, process_key)
    offered = _keys(documents.engine.specs.get(session, definition.id).properties.get("documents", "")) \
        if definition is not None else []
    if kind not in offered:
        raise Conflict("流程 %(process)s 没有提供%(document)s的出具"
                       % dict(process=process_key, document=KINDS[kind].title))
    total = len(batch_candidates(session, process_key, kind, region_code))
    return jobs.submit(session, after_commit, BATCH, {"process_key": process_key, "kind": kind},
                       created_by=actor.username, region_code=region_code, total=total)


def register_batch(jobs: JobService, documents: DocumentService) -> None:
    """The batch job: each case's document in its own transaction (a crash or a cancel keeps those
    already issued, each complete with its number; running the batch again goes on with the rest)."""

    def run(ctx: JobContext) -> dict[str, Any]:
        kind, process_key = str(ctx.params["kind"]), str(ctx.params["process_key"])
        with jobs.reading() as reading:
            job_region = reading.session.scalar(select(Job.region_code).where(Job.id == ctx.job_id)) or ""
            created_by = reading.session.scalar(select(Job.created_by).where(Job.id == ctx.job_id)) or "system"
            ids = batch_candidates(reading.session, process_key, kind, job_region)
        issued: list[str] = []
        for done, instance_id in enumerate(ids, start=1):
            with jobs.unit_of_work() as uow:
                instance = uow.session.get(ProcessInstance, instance_id)
                if instance is not None and instance.case_status in KINDS[kind].statuses:
                    issued.append(documents.issue(uow.session, instance, kind, created_by).number)
                uow.commit()
            ctx.heartbeat(done, len(ids))
        result = {"issued": len(issued), "kind": kind, "title": KINDS[kind].title,
                  "first": issued[0] if issued else None, "last": issued[-1] if issued else None}
        return ctx.finish(lambda _uow: result)

    jobs.register(BATCH, run, time_limit=3600)
