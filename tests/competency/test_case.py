"""CASE 1.0 / 1.1: any package imports unchanged and exports back; malformed ones are located
problem lists that import nothing; the REST endpoints; pull-import; CLI; concurrency."""
from __future__ import annotations

import copy
import json
import threading
import urllib.error
import urllib.request

import pytest
import sqlalchemy as sa

from lms.core.db import db
from tests.competency.case_packages import dumps, package, uid, with_rules
from tests.competency.helpers import import_small

API = "/api/v1/competency"


def _count(model):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _nothing_imported():
    from competency.models import (EvidenceRule, Framework, FrameworkAssociation, FrameworkItem, FrameworkLevel,
                                   Occupation)

    db.session.rollback()
    return all(_count(m) == 0 for m in (Framework, FrameworkLevel, FrameworkItem, FrameworkAssociation,
                                        EvidenceRule, Occupation))


def _import(pkg, minified=False, **kw):
    from competency.operations.frameworks import import_framework

    fw = import_framework(dumps(pkg, minified), "p.json", **kw)
    db.session.commit()
    return fw


# --- round trips -------------------------------------------------------------------------------


@pytest.mark.parametrize("name, lang, version, minified", [
    ("math", "en", "1.0", False), ("math-zh", "zh", "1.0", False), ("math-min", "en", "1.0", True),
    ("math-11", "en", "1.1", False)])
def test_a_foreign_package_imports_unchanged_and_exports_the_same(app, name, lang, version, minified):
    from competency.operations.case_schema import validate
    from competency.operations.frameworks import export_case

    pkg = package(name, lang, version)
    fw = _import(pkg, minified)
    out = export_case(fw)
    assert out == pkg
    assert validate(out) == []
    assert fw.vocational is False and fw.status == "active"
    assert [lv.label() for lv in fw.levels] == [pkg["CFDocument"]["title"]]
    assert "工" not in fw.levels[0].label("en") + fw.levels[0].label("zh")


def test_rules_in_case_extensions_take_short_verb_names_and_come_back_as_iris(app):
    from competency.models import EvidenceRule
    from competency.operations.frameworks import export_case

    pkg = with_rules(package("ruled"))
    fw = _import(pkg)
    rule = db.session.scalar(sa.select(EvidenceRule))
    assert rule.verbs == ["http://adlnet.gov/expapi/verbs/completed", "http://adlnet.gov/expapi/verbs/passed"]
    assert rule.unit.code == "N.RN.1.a" and rule.unit.kind == "unit"
    out = export_case(fw)
    # Documented difference: the rules are the framework's current ones, verbs as IRIs.
    assert out["CFDocument"]["extensions"]["rules"][0]["verbs"] == rule.verbs
    out["CFDocument"]["extensions"].pop("rules")
    pkg["CFDocument"]["extensions"].pop("rules")
    assert out == pkg


def test_the_tree_units_and_several_parents(app):
    from competency.models import FrameworkAssociation, FrameworkItem

    pkg = package("tree")
    fw = _import(pkg)
    items = {i.code: i for i in db.session.scalars(sa.select(FrameworkItem).where(FrameworkItem.framework_id == fw.id))}
    assert items["N"].kind == "group" and items["N.RN.1.a"].kind == "unit" and items["N.RN.3"].kind == "unit"
    assert items["N.RN.1.a"].parent.parent.parent.code == "N"  # four levels
    assert items["A.SSE.1"].parent.code == "A.SSE"  # first isChildOf is the tree parent ...
    parents = db.session.scalars(sa.select(FrameworkAssociation.destination_identifier).where(
        FrameworkAssociation.association_type == "isChildOf",
        FrameworkAssociation.origin_identifier == str(items["A.SSE.1"].identifier))).all()
    assert len(parents) == 2  # ... and the second is kept
    types = set(db.session.scalars(sa.select(FrameworkAssociation.association_type)))
    assert types == {"isChildOf", "exactMatchOf", "precedes", "isRelatedTo", "exemplar", "isPeerOf", "isPartOf",
                     "replacedBy", "hasSkillLevel"}
    assert items["N.RN.1.a"].weight == 0.5 and items["N.RN.1.a"].required


def test_a_vocational_framework_round_trips_through_case(app):
    from competency.operations.case_schema import validate
    from competency.operations.frameworks import export_case, import_framework

    fw = import_small()
    first = export_case(fw)
    assert validate(first) == []
    db.session.delete(fw)
    db.session.commit()
    again = import_framework(json.dumps(first, ensure_ascii=False), "x.json")
    db.session.commit()
    assert again.vocational and [lv.label() for lv in again.levels][0].startswith("初级工")
    assert export_case(again) == first


def test_retiring_and_editing_show_in_the_export_with_a_new_change_time(app):
    from competency.operations.frameworks import export_case, update_framework

    pkg = package("edited")
    fw = _import(pkg)
    update_framework(fw, actor=None, title="Renamed", status="retired")
    db.session.commit()
    doc = export_case(fw)["CFDocument"]
    assert doc["title"] == "Renamed" and doc["adoptionStatus"] == "Deprecated"
    assert doc["lastChangeDateTime"] != pkg["CFDocument"]["lastChangeDateTime"]


# --- malformed packages ------------------------------------------------------------------------


def _item_index(pkg, code):
    return next(n for n, i in enumerate(pkg["CFItems"]) if i["humanCodingScheme"] == code)


def _break(kind):
    pkg = with_rules(package("bad"))
    n = _item_index(pkg, "N.RN.1")
    if kind == "list_enumeration_number":
        pkg["CFItems"][n]["listEnumeration"] = 1
        return pkg, f"/CFItems/{n}/listEnumeration"
    if kind == "node_as_string":
        pkg["CFAssociations"][3]["destinationNodeURI"] = "N.RN.3"
        return pkg, "/CFAssociations/3/destinationNodeURI"
    if kind == "extensions_list":
        pkg["CFItems"][n]["extensions"] = ["weight", 1]
        return pkg, f"/CFItems/{n}/extensions"
    if kind == "occupation_string":
        pkg["CFDocument"]["extensions"]["occupation"] = "6-31-01-03"
        return pkg, "/CFDocument/extensions/occupation"
    if kind == "min_scaled_word":
        pkg["CFDocument"]["extensions"]["rules"][0]["minScaled"] = "high"
        return pkg, "/CFDocument/extensions/rules/0/minScaled"
    if kind == "long_code":
        pkg["CFItems"][n]["humanCodingScheme"] = "X" * 201
        return pkg, f"/CFItems/{n}/humanCodingScheme"
    if kind == "long_title":
        pkg["CFDocument"]["title"] = "标" * 301
        return pkg, "/CFDocument/title"
    if kind == "cycle":
        top = pkg["CFItems"][_item_index(pkg, "N")]
        leaf = pkg["CFItems"][_item_index(pkg, "N.RN.1.a")]
        pkg["CFAssociations"].append({**copy.deepcopy(pkg["CFAssociations"][0]), "identifier": uid("bad", "cyc"),
                                      "originNodeURI": {"title": "N", "identifier": top["identifier"], "uri": top["uri"]},
                                      "destinationNodeURI": {"title": "x", "identifier": leaf["identifier"],
                                                             "uri": leaf["uri"]}})
        return pkg, f"/CFAssociations/{len(pkg['CFAssociations']) - 1}"
    if kind == "no_change_time":
        del pkg["CFItems"][n]["lastChangeDateTime"]
        return pkg, f"/CFItems/{n}"
    if kind == "bad_uuid":
        pkg["CFItems"][n]["identifier"] = "not-a-uuid"
        return pkg, f"/CFItems/{n}/identifier"
    if kind == "unknown_association":
        pkg["CFAssociations"][0]["associationType"] = "isCousinOf"
        return pkg, "/CFAssociations/0/associationType"
    if kind == "rule_on_group":
        pkg["CFDocument"]["extensions"]["rules"][0]["unit"] = pkg["CFItems"][_item_index(pkg, "N")]["identifier"]
        return pkg, "/CFDocument/extensions/rules/0"
    if kind == "duplicate_identifier":
        pkg["CFItems"][n + 1]["identifier"] = pkg["CFItems"][n]["identifier"]
        return pkg, f"/CFItems/{n + 1}/identifier"
    if kind == "escaped_slash_uri":
        pkg["CFItems"][n]["uri"] = "not a uri"
        return pkg, f"/CFItems/{n}/uri"
    raise AssertionError(kind)


MALFORMED = ["list_enumeration_number", "node_as_string", "extensions_list", "occupation_string", "min_scaled_word",
             "long_code", "long_title", "cycle", "no_change_time", "bad_uuid", "unknown_association", "rule_on_group",
             "duplicate_identifier", "escaped_slash_uri"]


@pytest.mark.parametrize("kind", MALFORMED)
@pytest.mark.parametrize("minified", [False, True])
def test_a_malformed_package_is_a_located_problem_list_and_imports_nothing(app, kind, minified):
    from competency.operations.case_schema import locate
    from competency.operations.frameworks import FrameworkImportError, import_framework

    pkg, pointer = _break(kind)
    text = dumps(pkg, minified)
    if kind == "escaped_slash_uri":
        text = text.replace("/", "\\/")  # JSON may escape every slash
    with pytest.raises(FrameworkImportError) as err:
        import_framework(text, "bad.json")
    hits = [e for e in err.value.errors if e[2] == pointer]
    assert hits, err.value.errors
    if minified:
        assert hits[0][0] is None
    else:
        assert hits[0][0] == locate(text, [pointer])[pointer] and hits[0][0] > 1
    assert _nothing_imported()


def test_line_numbers_point_at_the_member(app):
    from competency.operations.frameworks import FrameworkImportError, import_framework

    pkg, pointer = _break("list_enumeration_number")
    text = dumps(pkg)
    with pytest.raises(FrameworkImportError) as err:
        import_framework(text, "bad.json")
    line = next(e[0] for e in err.value.errors if e[2] == pointer)
    assert '"listEnumeration": 1' in text.splitlines()[line - 1]


@pytest.mark.parametrize("text, message", [
    ("[" * 5000 + "]" * 5000, "nests deeper"),
    ('{"CFDocument": ' * 100 + "1" + "}" * 100, "nests deeper"),
    ("[1, 2]", "must be object"),
    ('{"CFDocument": {"identifier": 5}}', "must be string"),
    ('{"CFDocument": {,}', "not valid JSON"),
    ('{"CFItems": []}', "lacks the required member CFDocument"),
])
def test_hostile_files_are_problems_not_crashes(app, text, message):
    from competency.operations.frameworks import FrameworkImportError, import_framework

    with pytest.raises(FrameworkImportError) as err:
        import_framework(text, "x.json")
    assert message in str(err.value)
    assert _nothing_imported()


def test_a_file_over_the_size_limit_is_refused(app):
    from competency.operations.frameworks import FrameworkImportError, import_framework

    old = app.config["COMPETENCY_IMPORT_MAX_BYTES"]
    app.config["COMPETENCY_IMPORT_MAX_BYTES"] = 1024 * 1024
    try:
        pkg = package("huge")
        pkg["CFDocument"]["description"] = "x" * (1024 * 1024)
        with pytest.raises(FrameworkImportError) as err:
            import_framework(dumps(pkg), "x.json")
        assert "larger than" in str(err.value)
    finally:
        app.config["COMPETENCY_IMPORT_MAX_BYTES"] = old
    assert _nothing_imported()


def test_the_api_answers_problems_with_pointers_never_a_500(app, client, create_user, api_token):
    admin = create_user(login="root@example.com", admin=True)
    pkg, pointer = _break("min_scaled_word")
    resp = client.post(f"{API}/frameworks", headers=api_token(admin), data=dumps(pkg),
                       content_type="application/json")
    assert resp.status_code == 400
    errors = resp.get_json()["error"]["errors"] if "error" in resp.get_json() else resp.get_json()["errors"]
    assert any(e["pointer"] == pointer and e["line"] for e in errors)
    assert _nothing_imported()


def test_a_second_import_of_the_same_package_is_refused(app):
    from competency.operations.frameworks import FrameworkImportError, import_framework

    _import(package("twice"))
    with pytest.raises(FrameworkImportError) as err:
        import_framework(dumps(package("twice")), "p.json")
    assert "already exists" in str(err.value)


# --- REST endpoints ----------------------------------------------------------------------------


def _published(name="pub", **kw):
    fw = _import(package(name), **kw)
    fw.published = True
    db.session.commit()
    return fw


@pytest.mark.parametrize("version", ["v1p0", "v1p1"])
def test_the_case_endpoints_serve_published_frameworks_to_anyone(app, client, version):
    pkg = package("pub")
    fw = _published()
    hidden = _import(package("hidden"))
    base = f"/ims/case/{version}"
    docs = client.get(f"{base}/CFDocuments").get_json()["CFDocuments"]
    assert [d["identifier"] for d in docs] == [str(fw.identifier)]
    assert client.get(f"{base}/CFDocuments/{fw.identifier}").get_json() == pkg["CFDocument"]
    assert client.get(f"{base}/CFPackages/{fw.identifier}").get_json() == pkg
    item = pkg["CFItems"][3]
    assert client.get(f"{base}/CFItems/{item['identifier']}").get_json() == item
    assoc = pkg["CFAssociations"][-1]
    assert client.get(f"{base}/CFAssociations/{assoc['identifier']}").get_json() == assoc
    for path in (f"CFPackages/{hidden.identifier}", f"CFDocuments/{hidden.identifier}",
                 f"CFItems/{package('hidden')['CFItems'][0]['identifier']}", "CFPackages/nope",
                 f"CFItems/{uid('x', 'y')}"):
        resp = client.get(f"{base}/{path}")
        assert resp.status_code == 404 and resp.get_json()["imsx_codeMajor"] == "failure", path
    assert client.get(f"/ims/case/v2p0/CFDocuments").status_code == 404


def test_an_unpublished_framework_is_served_to_its_organisation_only(app, create_user, create_org):
    from lms.testing import AuthActions

    school_a, school_b = create_org("A", "institution"), create_org("B", "institution")
    admin_a = create_user("institution_admin", school_a)
    admin_b = create_user("institution_admin", school_b)
    fw = _import(package("own"), owner_org_id=school_a.id)
    url = f"/ims/case/v1p0/CFPackages/{fw.identifier}"
    assert app.test_client().get(url).status_code == 404
    for user, status in ((admin_a, 200), (admin_b, 404)):
        client = app.test_client()
        AuthActions(client).login(user)
        assert client.get(url).status_code == status
        assert len(client.get("/ims/case/v1p1/CFDocuments").get_json()["CFDocuments"]) == (status == 200)


def test_import_needs_an_admin_of_the_owning_organisation(app, client, create_user, create_org, api_token):
    school_a, school_b = create_org("A", "institution"), create_org("B", "institution")
    admin_a = create_user("institution_admin", school_a)
    teacher = create_user("teacher", school_a)
    body = dumps(package("roles"))
    assert client.post(f"{API}/frameworks", headers=api_token(teacher), data=body,
                       content_type="application/json").status_code == 403
    assert client.post(f"{API}/frameworks?organisation_id={school_b.id}", headers=api_token(admin_a), data=body,
                       content_type="application/json").status_code == 403
    assert _nothing_imported()
    resp = client.post(f"{API}/frameworks", headers=api_token(admin_a), data=body, content_type="application/json")
    assert resp.status_code == 201 and resp.get_json()["owner"]["id"] == school_a.id
    assert resp.get_json()["level_names"] == [package("roles")["CFDocument"]["title"]]


# --- pull-import from another platform ---------------------------------------------------------


@pytest.fixture
def second_platform(tmp_path):
    """Another platform instance (its own database) served on 127.0.0.1."""
    from lms import create_app
    from lms.core.migrations import upgrade_all
    from lms.testing import LiveServer, free_port

    other = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path), "LMS_SECRET_KEY": "x" * 40,
                        "LMS_DATABASE_URL": "sqlite:///" + str(tmp_path / "other.sqlite3"),
                        "LMS_LOG_LEVEL": "WARNING", "MAIL_BACKEND": "console", "CELERY_BROKER_URL": ""})
    with other.app_context():
        upgrade_all()
    server = LiveServer(other, free_port()).start()
    yield other, server
    server.stop()
    with other.app_context():
        db.session.remove()
        db.engine.dispose()


def test_a_published_framework_is_pulled_by_url_from_another_platform(app, client, second_platform, create_user,
                                                                      api_token):
    from competency.operations.frameworks import export_case, import_framework

    other, server = second_platform
    pkg = with_rules(package("pulled", "zh"))
    with other.app_context():
        fw = import_framework(dumps(pkg), "p.json")
        fw.published = True
        db.session.commit()
        ident = str(fw.identifier)
        db.session.remove()
    admin = create_user(login="root@example.com", admin=True)
    url = f"{server.url}/ims/case/v1p1/CFDocuments/{ident}"
    resp = client.post(f"{API}/frameworks/pull", headers=api_token(admin), json={"url": url})
    assert resp.status_code == 403 and resp.get_json()["error"]["code"] == "host_not_allowed"
    app.config["COMPETENCY_CASE_HOSTS"] = f"example.org, 127.0.0.1:{server.port}"
    try:
        resp = client.post(f"{API}/frameworks/pull", headers=api_token(admin), json={"url": url})
        assert resp.status_code == 201, resp.get_json()
        from competency.models import Framework

        mine = db.session.get(Framework, resp.get_json()["id"])
        assert str(mine.identifier) == ident
        out = export_case(mine)
        assert out["CFItems"] == pkg["CFItems"] and out["CFAssociations"] == pkg["CFAssociations"]
        # An unknown package on an allowed host, and a host that does not answer in time.
        resp = client.post(f"{API}/frameworks/pull", headers=api_token(admin),
                           json={"url": f"{server.url}/ims/case/v1p0/CFPackages/{uid('no', 'pe')}"})
        assert resp.status_code == 502
        app.config["COMPETENCY_CASE_TIMEOUT"] = 0.5
        resp = client.post(f"{API}/frameworks/pull", headers=api_token(admin),
                           json={"url": f"http://example.org:9/ims/case/v1p0/CFPackages/{ident}"})
        assert resp.status_code in (403, 502)
    finally:
        app.config["COMPETENCY_CASE_HOSTS"] = ""
        app.config["COMPETENCY_CASE_TIMEOUT"] = 10


# --- CLI and concurrency -----------------------------------------------------------------------


def test_cli_import_prints_the_document_identifier_and_export_takes_it(app, runner, tmp_path):
    pkg = package("cli", "zh")
    path = tmp_path / "cli.json"
    path.write_text(dumps(pkg), encoding="utf-8")
    res = runner.invoke(args=["competency", "import-framework", str(path)])
    assert res.exit_code == 0, res.output
    assert res.stdout.splitlines()[0] == pkg["CFDocument"]["identifier"]
    for ref in (pkg["CFDocument"]["identifier"], str(db.session.scalar(sa.text("select id from competency_frameworks")))):
        res = runner.invoke(args=["competency", "export-framework", ref])
        assert res.exit_code == 0 and json.loads(res.stdout) == pkg
    assert runner.invoke(args=["competency", "export-framework", "nope"]).exit_code != 0


def test_twenty_identical_imports_at_once_make_one_framework(app, live_server, create_user, api_token):
    from competency.models import Framework

    admin = create_user(login="root@example.com", admin=True)
    headers = {**api_token(admin), "Content-Type": "application/json"}
    body = dumps(package("race")).encode()
    codes = []

    def post():
        req = urllib.request.Request(f"{live_server.url}{API}/frameworks", data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=60) as res:
                codes.append(res.status)
        except urllib.error.HTTPError as exc:
            codes.append(exc.code)

    threads = [threading.Thread(target=post) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    db.session.rollback()
    assert codes.count(201) == 1 and set(codes) <= {201, 400, 409}, codes
    assert _count(Framework) == 1


# --- the vocational model is an overlay --------------------------------------------------------


def test_a_foreign_framework_is_usable_at_once_and_never_shows_the_ladder(app, create_user, auth, client):
    from competency.models import FrameworkItem, LevelAttainment
    from competency.operations.attainment import award_level
    from competency.operations.certificates import issue_certificate
    from tests.competency.helpers import mbox, record, stmt

    pkg = package("usable")
    lesson = "https://lessons.example.org/all"
    units = [i["identifier"] for i in pkg["CFItems"] if i["humanCodingScheme"] in
             ("N.RN.1.a", "N.RN.1.b", "N.RN.3", "A.SSE.1")]
    pkg["CFDocument"]["extensions"]["rules"] = [{"unit": u, "verbs": ["completed"], "matchIri": lesson}
                                                for u in units]
    fw = _import(pkg)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(FrameworkItem).where(
        FrameworkItem.framework_id == fw.id, FrameworkItem.kind == "unit")) == 4
    admin = create_user(login="root@example.com", admin=True)
    learner = create_user(login="maths@example.com")
    record(stmt(mbox(learner.login), "http://adlnet.gov/expapi/verbs/completed", lesson))
    att = db.session.scalar(sa.select(LevelAttainment).where(LevelAttainment.user_id == learner.id))
    assert att is not None and att.status == "eligible", att and att.status
    award_level(att, actor=admin)
    cert = issue_certificate(att, actor=admin)
    db.session.commit()
    title = pkg["CFDocument"]["title"]
    assert cert.statement["level"] == title and cert.statement["grade"] == ""
    auth.login(admin)
    for url in ("/competency/frameworks", f"/competency/frameworks/{fw.id}",
                f"/competency/learners/{learner.id}", f"/competency/attainments/{att.id}"):
        resp = client.get(url)
        assert resp.status_code == 200, url
        page = resp.get_data(as_text=True)
        assert "初级工" not in page and "五级" not in page, url
    page = client.get(f"/competency/frameworks/{fw.id}").get_data(as_text=True)
    assert "N.RN.1.a" in page and title in page
    profile = client.get(f"/competency/learners/{learner.id}").get_data(as_text=True)
    assert title in profile and '<ol class="cmp-levels"' not in profile


def test_the_rule_form_offers_vocabulary_and_seen_verbs_searchable(app, client, auth, create_user):
    from tests.competency.helpers import mbox, record, stmt

    fw = _import(package("verbs"))
    admin = create_user(login="root@example.com", admin=True)
    record(stmt(mbox("someone@example.com"), "https://example.org/verbs/calibrated", "https://x.example.org/a"))
    auth.login(admin)
    page = client.get(f"/competency/frameworks/{fw.id}/rules/new").get_data(as_text=True)
    for iri in ("https://example.org/verbs/calibrated", "http://adlnet.gov/expapi/verbs/passed",
                "http://adlnet.gov/expapi/verbs/terminated", "https://w3id.org/xapi/adl/verbs/achieved"):
        assert f'value="{iri}"' in page, iri
    page = client.get(f"/competency/frameworks/{fw.id}/rules/new?verb_q=calib").get_data(as_text=True)
    assert 'value="https://example.org/verbs/calibrated"' in page
    assert 'value="http://adlnet.gov/expapi/verbs/passed"' not in page


def test_publishing_from_the_edit_page_is_logged(app, client, auth, create_user):
    from competency.models import RuleChange
    from lms.testing import csrf_token_from

    fw = _import(package("publish"))
    admin = create_user(login="root@example.com", admin=True)
    auth.login(admin)
    url = f"/competency/frameworks/{fw.id}/edit"
    token = csrf_token_from(client.get(url).get_data(as_text=True))
    resp = client.post(url, data={"csrf_token": token, "title": fw.title, "status": "active", "published": "y"})
    assert resp.status_code in (302, 303)
    db.session.refresh(fw)
    assert fw.published
    change = db.session.scalars(sa.select(RuleChange).order_by(RuleChange.id.desc())).first()
    assert change.action == "update" and change.after["published"] is True and change.before["published"] is False
    assert app.test_client().get(f"/ims/case/v1p0/CFPackages/{fw.identifier}").status_code == 200


def test_deleting_a_case_framework_removes_its_associations_and_logs_it(app):
    from competency.models import FrameworkAssociation, RuleChange
    from competency.operations.frameworks import delete_framework

    fw = _import(package("gone"))
    assert _count(FrameworkAssociation) == len(package("gone")["CFAssociations"])
    delete_framework(fw, actor=None)
    db.session.commit()
    assert _count(FrameworkAssociation) == 0
    assert [c.action for c in db.session.scalars(sa.select(RuleChange).order_by(RuleChange.id))] == ["create", "delete"]
    _import(package("gone"))  # the same package imports again


def test_nesting_is_measured_outside_strings():
    from competency.operations.case_schema import nesting_depth

    assert not nesting_depth('{"a": "[[[[[[[[[[[[\\"[[[[[["}', 3)  # an escaped quote stays in the string
    assert nesting_depth("[[[[1]]]]", 3) and not nesting_depth("[[[1]]]", 3)
