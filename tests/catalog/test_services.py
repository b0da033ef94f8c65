import pytest
from django.core.exceptions import PermissionDenied

from pishkhan.catalog import selectors
from pishkhan.catalog.models import DistrictVariant, ProcessVersion, Service, VersionStatus
from pishkhan.catalog.services import (
    CatalogError,
    variant_set,
    version_import,
    version_new_draft_from,
    version_publish,
    version_retire,
    version_update_draft,
)
from pishkhan.core.audit import audit_events

from .catalog_factories import (
    DATA,
    SIGN_PERMIT_V1,
    SIGN_PERMIT_V2,
    bind_sign_permit_roles,
    import_file,
    make_department,
    make_district,
    make_owner,
    make_staff,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner():
    return make_owner()


@pytest.fixture
def published_v1(owner):
    bind_sign_permit_roles()
    version = import_file(SIGN_PERMIT_V1)
    version_publish(version=version, by=owner)
    version.refresh_from_db()
    return version


def test_importing_a_yaml_file_makes_a_draft_of_a_new_service_whatever_the_file_says():
    make_department()
    version = import_file(SIGN_PERMIT_V1)  # the file says `status: published`

    assert version.status == VersionStatus.DRAFT and version.number == 1
    service = version.service
    assert (service.code, service.title_fa, service.title_en) == (
        "sign-permit",
        "مجوز نصب تابلو",
        "Shop sign permit",
    )
    assert service.department.code == "urban-planning"
    assert version.source.startswith("# A small process") and version.source_format == "yaml"
    assert "status" not in version.body and version.body["version"] == 1
    assert len(version.body_hash) == 64


def test_a_second_import_of_the_same_service_takes_the_next_number():
    first = import_file(SIGN_PERMIT_V1)
    second = import_file(SIGN_PERMIT_V2)  # its file says version 2, but numbering is the bank's
    third = import_file(SIGN_PERMIT_V1)
    assert (first.number, second.number, third.number) == (1, 2, 3)
    assert third.body["version"] == 3
    assert Service.objects.count() == 1


def test_an_invalid_file_is_refused_with_its_problems_and_nothing_is_written():
    with pytest.raises(CatalogError) as refused:
        import_file(DATA / "broken.yaml")
    assert any("nowhere" in p.message and p.line == 13 for p in refused.value.problems)
    assert not Service.objects.exists() and not ProcessVersion.objects.exists()


def test_a_text_that_is_not_yaml_at_all_is_refused():
    with pytest.raises(CatalogError):
        version_import(source="code: [unclosed", filename="x.yaml")
    assert not Service.objects.exists()


def test_a_clerk_may_not_publish_and_the_draft_stays_a_draft():
    bind_sign_permit_roles()
    version = import_file(SIGN_PERMIT_V1)
    clerk = make_staff("clerk01", "clerk")

    with pytest.raises(PermissionDenied):
        version_publish(version=version, by=clerk)
    with pytest.raises(PermissionDenied):
        version_publish(version=version, by=None)

    version.refresh_from_db()
    assert version.status == VersionStatus.DRAFT and version.published_at is None
    assert not audit_events(action="process.published").exists()


def test_a_process_owner_publishes_and_the_publication_is_in_the_audit_log(owner):
    bind_sign_permit_roles()
    version = import_file(SIGN_PERMIT_V1)

    publication = version_publish(version=version, by=owner)

    version.refresh_from_db()
    assert version.status == VersionStatus.PUBLISHED
    assert version.published_by == owner and version.published_at is not None
    assert publication.retired is None and publication.warnings == []
    event = audit_events(action="process.published").get()
    assert event.actor == owner and event.subject == "process:sign-permit@1"
    assert event.data["service"] == "sign-permit" and event.data["body_hash"] == version.body_hash
    assert selectors.version_current(version.service) == version


def test_a_process_owner_of_another_department_may_not_publish():
    make_department("urban-planning")
    finance = make_department("finance")
    bind_sign_permit_roles()
    version = import_file(SIGN_PERMIT_V1)
    with pytest.raises(PermissionDenied):
        version_publish(version=version, by=make_owner("finance-owner", department=finance))
    version_publish(version=version, by=make_owner("planning-owner", department=version.service.department))


def test_publishing_a_new_version_retires_the_one_published_before(owner, published_v1):
    v2 = import_file(SIGN_PERMIT_V2)
    publication = version_publish(version=v2, by=owner)

    published_v1.refresh_from_db()
    assert published_v1.status == VersionStatus.RETIRED
    assert publication.retired == published_v1
    assert selectors.version_current(v2.service).number == 2
    assert audit_events(action="process.published").first().data["retired_version"] == 1


def test_a_published_version_never_changes(owner, published_v1):
    edited = dict(published_v1.body, title={"fa": "عنوان تازه"})
    before = (published_v1.body, published_v1.body_hash, published_v1.note)

    with pytest.raises(CatalogError, match="never changes"):
        version_update_draft(version=published_v1, body=edited, by=owner, note="sneaky")
    with pytest.raises(CatalogError):
        version_publish(version=published_v1, by=owner)

    published_v1.refresh_from_db()
    assert (published_v1.body, published_v1.body_hash, published_v1.note) == before
    assert published_v1.status == VersionStatus.PUBLISHED


def test_a_draft_is_edited_through_validation(owner):
    version = import_file(SIGN_PERMIT_V1)
    body = dict(version.body, title={"fa": "مجوز تابلو", "en": "Sign permit"})

    version_update_draft(version=version, body=body, by=owner, note="shorter title")
    version.refresh_from_db()
    assert version.body["title"] == {"fa": "مجوز تابلو", "en": "Sign permit"}
    assert version.note == "shorter title" and version.source == ""

    broken = dict(version.body, start="nowhere")
    with pytest.raises(CatalogError) as refused:
        version_update_draft(version=version, body=broken, by=owner)
    assert refused.value.problems
    version.refresh_from_db()
    assert version.body["start"] == "receive"


def test_a_draft_cannot_be_given_another_services_definition(owner):
    version = import_file(SIGN_PERMIT_V1)
    with pytest.raises(CatalogError, match="not `sign-permit`"):
        version_update_draft(version=version, body=dict(version.body, code="other-permit"), by=owner)


def test_publishing_refuses_a_role_that_nobody_holds_unless_forced(owner):
    version = import_file(SIGN_PERMIT_V1)  # nobody holds clerk, inspector, manager or signatory yet
    with pytest.raises(CatalogError) as refused:
        version_publish(version=version, by=owner)
    messages = [p.message for p in refused.value.problems]
    assert "step `inspect` names role `inspector` which no district binds" in messages
    version.refresh_from_db()
    assert version.status == VersionStatus.DRAFT

    publication = version_publish(version=version, by=owner, force=True)
    assert publication.version.status == VersionStatus.PUBLISHED
    assert {p.path for p in publication.warnings} == {"clerk", "inspector", "manager", "signatory"}
    assert audit_events(action="process.published").get().data["unbound_roles"] == [
        "clerk",
        "inspector",
        "manager",
        "signatory",
    ]


def test_a_new_draft_from_a_published_version_copies_it_under_the_next_number(owner, published_v1):
    draft = version_new_draft_from(version=published_v1, by=owner)
    assert (draft.number, draft.status) == (2, VersionStatus.DRAFT)
    assert {k: v for k, v in draft.body.items() if k != "version"} == {
        k: v for k, v in published_v1.body.items() if k != "version"
    }
    assert draft.body["version"] == 2


def test_retiring_takes_a_service_out_of_the_catalogue_and_is_audited(owner, published_v1):
    with pytest.raises(PermissionDenied):
        version_retire(version=published_v1, by=make_staff("clerk01", "clerk"))
    version_retire(version=published_v1, by=owner)

    published_v1.refresh_from_db()
    assert published_v1.status == VersionStatus.RETIRED
    assert list(selectors.service_list()) == []
    assert audit_events(action="process.retired").get().subject == "process:sign-permit@1"
    with pytest.raises(CatalogError):
        version_retire(version=published_v1, by=owner)


def test_the_catalogue_finds_a_service_typed_with_arabic_yeh_and_kaf_or_without_the_half_space(published_v1):
    assert [s.code for s in selectors.service_list(query="تابلو")] == ["sign-permit"]
    # Arabic Kaf (ك) and Yeh (ي) as an Arabic keyboard types them.
    assert [s.code for s in selectors.service_list(query="مجوز نصب تابلو")] == ["sign-permit"]
    assert [s.code for s in selectors.service_list(query="اجاره نامه")] == ["sign-permit"]  # a document title
    assert [s.code for s in selectors.service_list(query="اجارهنامه")] == ["sign-permit"]
    assert [s.code for s in selectors.service_list(query="SIGN")] == ["sign-permit"]
    assert list(selectors.service_list(query="حفاری")) == []
    assert list(selectors.service_list(category="other")) == []


def test_arabic_letters_in_a_query_find_the_persian_keyword(published_v1):
    assert [s.code for s in selectors.service_list(query="سردر مغازه")] == ["sign-permit"]
    assert [s.code for s in selectors.service_list(query="ك")] == []  # no Kaf anywhere in its text
    assert [s.code for s in selectors.service_list(query="ي")] == ["sign-permit"]  # Arabic Yeh finds ی


def test_a_service_with_only_drafts_is_listed_only_when_asked():
    import_file(SIGN_PERMIT_V1)
    assert list(selectors.service_list()) == []
    assert [s.code for s in selectors.service_list(include_drafts=True)] == ["sign-permit"]


def test_a_district_variant_is_applied_for_that_district_only(owner, published_v1):
    d07, d01 = make_district("d07", 7), make_district("d01", 1)
    patch = {
        "remove_steps": ["beautification"],
        "change_steps": {"reviews": {"branches": ["inspect", "second_inspection"]}},
        "add_steps": [
            {
                "id": "second_inspection",
                "title": {"fa": "بازدید دوم"},
                "role": "inspector",
                "kind": "inspection",
                "deadline_days": 6,
                "discretionary": True,
                "outcomes": [{"outcome": "done", "to": "reviews_done"}],
            }
        ],
    }

    variant = variant_set(version=published_v1, district=d07, patch=patch, note="کار منطقه", by=owner)

    version, definition = selectors.version_for_district(published_v1.service, d07)
    assert version == published_v1
    assert definition.step("second_inspection") is not None and definition.step("beautification") is None
    _, standard = selectors.version_for_district(published_v1.service, d01)
    assert standard.step("beautification") is not None
    assert selectors.variant_definition(variant).step("second_inspection").deadline_days == 6
    assert audit_events(action="process.variant_set").get().subject == "process:sign-permit@1:d07"
    published_v1.refresh_from_db()
    assert "second_inspection" not in [s["id"] for s in published_v1.body["steps"]]


def test_an_invalid_variant_is_refused_and_nothing_changes(owner, published_v1):
    d07 = make_district()
    with pytest.raises(CatalogError) as refused:
        variant_set(version=published_v1, district=d07, patch={"remove_steps": ["no_such_step"]}, by=owner)
    assert refused.value.problems
    assert not DistrictVariant.objects.exists()


def test_bpmn_import_makes_a_draft_and_reports_what_it_found():
    from pishkhan.catalog.services import source_parse

    path = DATA.parent / "bpmn" / "camunda-excavation-permit.bpmn"
    parsed = source_parse(source=path.read_bytes(), filename=path.name)
    version = version_import(source=path.read_bytes(), filename=path.name, parsed=parsed)
    assert version.source_format == "bpmn" and version.status == VersionStatus.DRAFT
    assert parsed.steps_found and parsed.roles_found
    # A diagram carries no outputs, so the draft is incomplete: it cannot be published as it is.
    if parsed.errors:
        with pytest.raises(CatalogError):
            version_publish(version=version, by=make_owner(), force=True)


@pytest.mark.django_db
def test_importing_a_file_that_is_not_utf8_is_refused_with_a_located_problem_and_stores_nothing():
    with pytest.raises(CatalogError) as refused:
        version_import(source=b"code: x\ntitle: \xff\xfe broken\n", filename="latin1.yaml")
    assert any("UTF-8" in str(problem.message) and problem.line == 2 for problem in refused.value.problems)
    assert not ProcessVersion.objects.exists()


def test_an_expression_error_is_given_in_the_language_of_the_page_that_asks():
    from django.utils import translation

    from pishkhan.catalog.expressions import expression_check

    with translation.override("en"):
        english = expression_check("area *")
    with translation.override("fa"):
        persian = expression_check("area *")
    assert english != persian and "syntax" in english
