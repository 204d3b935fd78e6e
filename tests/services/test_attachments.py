"""承诺书 (commitment letter): PDF or image by magic bytes, size-limited, shown to reviewers."""
from __future__ import annotations

import pytest

from engine.errors import Conflict, Forbidden, InvalidData, NotFound
from services.special_work import attachments
from tests.services.review_helpers import actor, complete, person, submit

PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def attach(runtime, batch_id, content, filename="承诺书.pdf", who="enterprise"):
    with runtime.unit_of_work() as uow:
        attachment = attachments.attach(uow.session, runtime.engine, actor(who), batch_id, filename, content)
        uow.commit()
        return attachment


def test_pdf_and_image_are_stored_and_visible_to_reviewers(runtime):
    batch_id, _ = submit(runtime, [person(1)])
    pdf = attach(runtime, batch_id, PDF)
    image = attach(runtime, batch_id, PNG, filename="../../扫描件.pdf")  # the bytes decide, not the name
    assert (pdf.content_type, pdf.filename) == ("application/pdf", "承诺书.pdf")
    assert (image.content_type, image.filename) == ("image/png", "扫描件.png")
    with runtime.unit_of_work() as uow:
        listed = attachments.list_attachments(uow.session, runtime.engine, actor("reviewer"), batch_id)
        assert [a.id for a in listed] == [pdf.id, image.id]
        assert attachments.get_attachment(uow.session, runtime.engine, actor("reviewer"), pdf.id).content == PDF
        with pytest.raises(NotFound):
            attachments.get_attachment(uow.session, runtime.engine, actor("tj_reviewer"), pdf.id)


@pytest.mark.parametrize(("content", "message"), [
    (b"MZ\x90\x00 an executable named .pdf", "承诺书只能是 PDF、PNG 或 JPEG 文件"),
    (b"", "上传的文件为空"),
    (b"%PDF-" + b"0" * attachments.MAX_BYTES, "承诺书文件不能超过 10 MB"),
])
def test_other_files_are_refused(runtime, content, message):
    batch_id, _ = submit(runtime, [person(2)])
    with pytest.raises(InvalidData) as refused:
        attach(runtime, batch_id, content)
    assert refused.value.message == message


def test_only_the_enterprise_or_reviewers_attach_and_not_after_closing(runtime):
    batch_id, instance_id = submit(runtime, [person(3)])
    with pytest.raises(NotFound):
        attach(runtime, batch_id, PDF, who="tj_enterprise")
    with pytest.raises(Forbidden):
        attach(runtime, batch_id, PDF, who="rechecker")
    complete(runtime, instance_id, "reviewer", {"decision": "reject", "conclusion": "材料不全"})
    with pytest.raises(Conflict):
        attach(runtime, batch_id, PDF)
