"""The designer's page: versions of every definition, the diagram, and uploads that validate and
deploy version N+1 — or show every problem and deploy nothing."""
from __future__ import annotations

import io
import re
from html import unescape
from uuid import uuid4

import pytest
from sqlalchemy import select

from engine.actors import Actor
from engine.models import ProcessDefinition
from tests.bpmn_factory import linear_process
from tests.engine.test_models_from_elsewhere import caller

STARTER = Actor("reviewer", frozenset({("reviewer", "110000")}))
ENTITY_FILE = b"""<?xml version="1.0"?>
<!DOCTYPE bpmn:definitions [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">
  <!ENTITY secret SYSTEM "file:///etc/passwd">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <bpmn:process id="entity_test" isExecutable="true"><bpmn:documentation>&lol2;&secret;</bpmn:documentation>
  </bpmn:process>
</bpmn:definitions>"""


@pytest.fixture
def key() -> str:
    """A process key of this test's own: deployed definitions are kept between tests."""
    return f"designer_{uuid4().hex[:10]}"


def versions(runtime, process_key: str) -> list[int]:
    with runtime.unit_of_work() as uow:
        return list(uow.session.scalars(select(ProcessDefinition.version).where(ProcessDefinition.key == process_key)
                                        .order_by(ProcessDefinition.version)))


def definition_count(runtime) -> int:
    with runtime.unit_of_work() as uow:
        return len(uow.session.scalars(select(ProcessDefinition.id)).all())


def upload(b, files: list[tuple[bytes, str]], action: str = "deploy"):
    data = {"action": action, "files": [(io.BytesIO(content), name) for content, name in files]}
    return b.post("/designer/upload", data, content_type="multipart/form-data")


def row_of(page: str, process_key: str, version: int) -> str:
    """The text of the versions table row of ``process_key`` v``version``."""
    table = re.search(r'<table class="grid definitions">.*?</table>', page, re.S).group(0)
    body = re.search(rf'<tbody>(?:(?!</tbody>).)*?<th scope="rowgroup"[^>]*>{process_key}[<\s].*?</tbody>',
                     table, re.S).group(0)
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S):
        if f">v{version}</a>" in row:
            return " ".join(unescape(re.sub(r"<[^>]+>", " ", row)).split())
    raise AssertionError(f"no row for {process_key} v{version}")


def test_upload_deploys_version_n_plus_1_and_lists_every_version(runtime, browser, key):
    designer = browser("designer")
    first = upload(designer, [(linear_process(key, label="初审"), f"{key}.bpmn")])
    assert first.status_code == 302
    assert versions(runtime, key) == [1]
    with runtime.unit_of_work() as uow:
        runtime.engine.start(uow, key, business_key="D-1", region_code="110101", data={}, actor=STARTER)
        uow.commit()

    second = upload(designer, [(linear_process(key, label="复审"), f"{key}.bpmn")])
    assert second.status_code == 302
    assert versions(runtime, key) == [1, 2]
    page = designer.get("/designer").get_data(as_text=True)
    assert f"已部署 {key} 第 2 版" in page
    with runtime.unit_of_work() as uow:
        newest = uow.session.scalars(select(ProcessDefinition).where(ProcessDefinition.key == key)
                                     .order_by(ProcessDefinition.version.desc())).first()
        hash_prefix = newest.content_hash[:12]
    assert row_of(page, key, 2).endswith(f"designer {hash_prefix} 0")  # deployed by, hash, no live case
    assert row_of(page, key, 1).endswith(" 1")  # the case started on v1 still runs there

    again = upload(designer, [(linear_process(key, label="复审"), f"{key}.bpmn")])
    assert again.status_code == 302 and versions(runtime, key) == [1, 2]
    assert "内容未变化" in designer.get("/designer").get_data(as_text=True)


def test_invalid_upload_lists_every_problem_and_deploys_nothing(runtime, browser, key):
    designer = browser("designer")
    good = linear_process(f"{key}_ok")
    bad = linear_process(key, lane="nobody", form="no_such_form")
    before = definition_count(runtime)
    response = upload(designer, [(good, "ok.bpmn"), (bad, "bad.bpmn")])
    text = unescape(response.get_data(as_text=True))
    assert response.status_code == 400 and "校验未通过，未部署任何文件" in text
    problems = re.findall(r"<tr><td>([^<]*)</td><td class=\"mono\">([^<]*)</td><td class=\"wrap\">([^<]*)</td></tr>",
                          text)
    assert ("bad.bpmn", "lane1") in [(f, e) for f, e, _m in problems]  # the lane names no role
    assert ("bad.bpmn", "task") in [(f, e) for f, e, _m in problems]  # the form does not exist
    assert any("nobody" in m for _f, _e, m in problems)
    assert definition_count(runtime) == before
    assert versions(runtime, f"{key}_ok") == []


def test_validate_only_deploys_nothing(runtime, browser, key):
    designer = browser("designer")
    ok = upload(designer, [(linear_process(key), f"{key}.bpmn")], action="validate")
    assert ok.status_code == 200 and f"校验通过：{key}.bpmn（未部署）" in ok.get_data(as_text=True)
    bad = upload(designer, [(linear_process(key, lane="nobody"), f"{key}.bpmn")], action="validate")
    assert bad.status_code == 400 and "lane1" in bad.get_data(as_text=True)
    assert versions(runtime, key) == []


def test_xml_entities_and_other_files_are_refused(runtime, browser):
    designer = browser("designer")
    before = definition_count(runtime)
    entity = upload(designer, [(ENTITY_FILE, "entity.bpmn")])
    text = entity.get_data(as_text=True)
    assert entity.status_code == 400 and "不允许在 BPMN 文件中声明 DOCTYPE 或 XML 实体" in text
    assert "root:" not in text
    other = upload(designer, [(b"hello", "notes.txt")])
    assert other.status_code == 400 and "只能上传 .bpmn 或 .dmn 文件" in other.get_data(as_text=True)
    nothing = upload(designer, [])
    assert nothing.status_code == 400 and "请选择要上传的 .bpmn 或 .dmn 文件" in nothing.get_data(as_text=True)
    assert definition_count(runtime) == before and versions(runtime, "entity_test") == []


def test_definition_page_draws_the_diagram_with_the_vendored_viewer(runtime, browser):
    with runtime.unit_of_work() as uow:
        definition = uow.session.scalars(select(ProcessDefinition).where(
            ProcessDefinition.key == "declaration_review_flow")).first()
    designer = browser("designer")
    page = designer.get(f"/designer/definitions/{definition.id}").get_data(as_text=True)
    assert "vendor/bpmn-js/bpmn-navigated-viewer.production.min.js" in page and "//cdn" not in page
    url = re.search(r'<figure class="diagram designer-diagram" data-url="([^"]+)"', page).group(1)
    xml = designer.get(url)
    assert xml.status_code == 200 and xml.content_type.startswith("application/xml")
    assert xml.get_data(as_text=True) == definition.xml
    assert designer.get("/designer/definitions/999999").status_code == 404


@pytest.mark.parametrize("user", ["reviewer", "supervisor", "admin"])
def test_only_designers_may_see_or_deploy(runtime, browser, key, user):
    b = browser(user)
    assert b.get("/designer").status_code == 403
    assert b.get("/designer/definitions/1").status_code == 403
    assert upload(b, [(linear_process(key), f"{key}.bpmn")]).status_code == 403
    assert versions(runtime, key) == []


def test_an_uploaded_file_is_served_as_a_download_never_rendered(runtime, browser, key):
    """An uploaded BPMN may carry XHTML with a script in its extension elements: the browser must
    save it, not parse it as a document of this site."""
    script = (b'<bpmn:documentation><html xmlns="http://www.w3.org/1999/xhtml"><script>alert(1)</script>'
              b'</html></bpmn:documentation>')
    xml = linear_process(key).replace(b'<bpmn:startEvent id="start" />',
                                      b'<bpmn:startEvent id="start">' + script + b'</bpmn:startEvent>')
    designer = browser("designer")
    assert upload(designer, [(xml, f"{key}.bpmn")]).status_code == 302
    with runtime.unit_of_work() as uow:
        definition_id = uow.session.scalar(select(ProcessDefinition.id).where(ProcessDefinition.key == key))
    answer = designer.get(f"/designer/definitions/{definition_id}.bpmn")
    assert answer.status_code == 200 and answer.data == xml
    assert answer.headers["Content-Disposition"] == f"attachment; filename*=UTF-8''{key}-v1.bpmn"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"


def test_only_a_national_designer_deploys(runtime, browser, bearer, client, key):
    """A definition serves every region, so deploying is national: a province's designer (whom a
    provincial admin may appoint) validates files but cannot change the country's processes."""
    xml = linear_process(key)
    province = browser("province_designer")
    assert upload(province, [(xml, f"{key}.bpmn")], action="validate").status_code == 200
    refused = upload(province, [(xml, f"{key}.bpmn")])
    assert refused.status_code == 403 and "部级" in refused.get_data(as_text=True)
    api = client.post("/api/process-definitions", headers=bearer("province_designer"),
                      data={"file": (io.BytesIO(xml), f"{key}.bpmn")}, content_type="multipart/form-data")
    assert api.status_code == 403
    assert versions(runtime, key) == []
    assert upload(browser("designer"), [(xml, f"{key}.bpmn")]).status_code == 302
    assert versions(runtime, key) == [1]


def definition_id(runtime, process_key: str, version: int) -> int:
    with runtime.unit_of_work() as uow:
        return uow.session.scalar(select(ProcessDefinition.id).where(ProcessDefinition.key == process_key,
                                                                     ProcessDefinition.version == version))


def links_of(page: str, label: str) -> list[tuple[str, str]]:
    """(href, text) of the links of the definition page's fact ``label``."""
    facts = re.search(rf"<dt>{label}</dt><dd[^>]*>(.*?)</dd>", page, re.S).group(1)
    found = re.findall(r'<a[^>]*href="([^"]+)"[^>]*>(.*?)</a>', facts)
    return [(href, " ".join(unescape(text).split())) for href, text in found]


def test_deploying_a_called_process_re_pins_its_callers_and_the_pages_show_the_pins(runtime, browser, key):
    designer = browser("designer")
    outer, inner = f"{key}_outer", f"{key}_inner"
    assert upload(designer, [(caller(outer, inner), f"{outer}.bpmn"),
                             (linear_process(inner, label="初审"), f"{inner}.bpmn")]).status_code == 302
    designer.get("/designer")  # the flashes of the first upload
    assert upload(designer, [(linear_process(inner, label="复审"), f"{inner}.bpmn")]).status_code == 302
    assert versions(runtime, outer) == [1, 2] and versions(runtime, inner) == [1, 2]
    page = designer.get("/designer").get_data(as_text=True)
    assert f"已部署 {inner} 第 2 版" in page
    assert f"{outer} 调用的流程有了新版本，已自动部署其第 2 版，改为调用 {inner} v2；进行中的办件仍按原版本办理" in page
    assert f" v2 {inner} v2 " in f" {row_of(page, outer, 2)} "  # its pin, right after its version
    assert f" v1 {inner} v1 " in f" {row_of(page, outer, 1)} "
    assert f" v2 {outer} v2 " in f" {row_of(page, inner, 2)} "  # called by
    assert f" v1 {outer} v1 " in f" {row_of(page, inner, 1)} "

    outer_v2, inner_v2 = definition_id(runtime, outer, 2), definition_id(runtime, inner, 2)
    outer_page = designer.get(f"/designer/definitions/{outer_v2}").get_data(as_text=True)
    assert links_of(outer_page, "调用的定义") == [(f"/designer/definitions/{inner_v2}", f"{inner} v2")]
    assert "无" in re.search(r"<dt>调用它的版本</dt><dd[^>]*>(.*?)</dd>", outer_page, re.S).group(1)
    inner_page = designer.get(f"/designer/definitions/{inner_v2}").get_data(as_text=True)
    assert links_of(inner_page, "调用它的版本") == [(f"/designer/definitions/{outer_v2}", f"{outer} v2")]

    # redeploying the unchanged file creates nothing and re-pins nothing
    assert upload(designer, [(linear_process(inner, label="复审"), f"{inner}.bpmn")]).status_code == 302
    page = designer.get("/designer").get_data(as_text=True)
    assert f"{inner} 内容未变化，仍为第 2 版" in page and "自动部署" not in page
    assert versions(runtime, outer) == [1, 2]


def test_a_chain_shows_indirect_pins(runtime, browser, key):
    designer = browser("designer")
    top, middle, bottom = f"{key}_a", f"{key}_b", f"{key}_c"
    assert upload(designer, [(caller(top, middle), f"{top}.bpmn"), (caller(middle, bottom), f"{middle}.bpmn"),
                             (linear_process(bottom), f"{bottom}.bpmn")]).status_code == 302
    assert upload(designer, [(linear_process(bottom, label="复审"), f"{bottom}.bpmn")]).status_code == 302
    assert (versions(runtime, top), versions(runtime, middle), versions(runtime, bottom)) == ([1, 2], [1, 2], [1, 2])
    page = designer.get(f"/designer/definitions/{definition_id(runtime, top, 2)}").get_data(as_text=True)
    assert [text for _href, text in links_of(page, "调用的定义")] == [f"{middle} v2", f"{bottom} v2"]
    assert page.count("（间接调用）") == 1  # the bottom: the top's file calls only the middle


def test_the_api_lists_re_pinned_callers_and_the_pins_of_a_version(runtime, client, bearer, key):
    outer, inner = f"{key}_outer", f"{key}_inner"
    for content, name in ((linear_process(inner), f"{inner}.bpmn"), (caller(outer, inner), f"{outer}.bpmn")):
        answer = client.post("/api/process-definitions", headers=bearer("designer"),
                             data={"file": (io.BytesIO(content), name)}, content_type="multipart/form-data")
        assert answer.status_code == 201, answer.json
    inner_v1, outer_v1 = definition_id(runtime, inner, 1), definition_id(runtime, outer, 1)
    answer = client.post("/api/process-definitions", headers=bearer("designer"), content_type="multipart/form-data",
                         data={"file": (io.BytesIO(linear_process(inner, label="复审")), f"{inner}.bpmn")})
    assert answer.status_code == 201, answer.json
    inner_v2, outer_v2 = definition_id(runtime, inner, 2), definition_id(runtime, outer, 2)
    assert answer.json["items"] == [
        {"key": inner, "version": 2, "created": True, "id": inner_v2, "repinned": []},
        {"key": outer, "version": 2, "created": True, "id": outer_v2,
         "repinned": [{"key": inner, "version": 2, "id": inner_v2}]}]

    one = client.get(f"/api/process-definitions/{outer_v1}", headers=bearer("designer")).json
    assert (one["version"], one["pins"], one["called_by"]) == (1, [{"key": inner, "version": 1, "id": inner_v1}], [])
    one = client.get(f"/api/process-definitions/{inner_v1}", headers=bearer("designer")).json
    assert one["called_by"] == [{"key": outer, "version": 1, "id": outer_v1}]
    assert client.get("/api/process-definitions/999999", headers=bearer("designer")).status_code == 404
    latest = {d["key"]: d for d in client.get("/api/process-definitions", headers=bearer("designer")).json["items"]}
    assert latest[outer]["pins"] == [{"key": inner, "version": 2, "id": inner_v2}]
    assert latest[inner]["called_by"] == [{"key": outer, "version": 2, "id": outer_v2}]
