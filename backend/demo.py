"""Demo data: one city with three counties, about 30 institutions of every type, physicians,
users for every role and a few assignments, so that a new user can try every screen; and a few
submitted inspections whose notices wait on the bureau's desk (see backend.rectification.demo).

Demo accounts share one password, taken from ``YIBAO_DEMO_PASSWORD`` or, when unset, a default
that the run command prints. Demo data is refused in production mode.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from backend.accounts.passwords import hash_password_async
from backend.accounts.tables import ROLE_LABELS, Role, User
from backend.audit.services import Actor, record
from backend.checklists.tables import ChecklistVersion
from backend.db import write_transaction
from backend.errors import Conflict
from backend.inspections.tables import Assignment, AssignmentInspector, AssignmentKind
from backend.institutions.tables import Institution, InstitutionType, Physician, Region
from backend.planning.tables import InspectorRelation
from backend.settings import Settings

DEFAULT_DEMO_PASSWORD = "demo2026"
CITY_CODE = "371000"

REGIONS = [
    # code, name, office short name (for notice numbers), parent
    (CITY_CODE, "威海市", "威", None),
    ("371002", "环翠区", "环翠", CITY_CODE),
    ("371003", "文登区", "文登", CITY_CODE),
    ("371082", "荣成市", "荣成", CITY_CODE),
]

STREETS = {
    "371002": ["文化中路", "新威路", "青岛北路", "世昌大道", "统一路"],
    "371003": ["龙山路", "峰山路", "文山路", "米山路"],
    "371082": ["成山大道", "石岛黄海中路", "府新路", "观海路"],
}

# name, type, level, county
INSTITUTIONS: list[tuple[str, InstitutionType, str, str]] = [
    ("威海海滨人民医院", InstitutionType.hospital, "三级甲等", "371002"),
    ("环翠区康宁骨科医院", InstitutionType.hospital, "二级甲等", "371002"),
    ("文登区第二人民医院", InstitutionType.hospital, "二级甲等", "371003"),
    ("文登区汇康妇幼医院", InstitutionType.hospital, "二级乙等", "371003"),
    ("荣成石岛人民医院", InstitutionType.hospital, "二级甲等", "371082"),
    ("荣成港湾中西医结合医院", InstitutionType.hospital, "一级", "371082"),
    ("环翠区仁和诊所", InstitutionType.clinic, "未定级", "371002"),
    ("环翠区杏林口腔诊所", InstitutionType.clinic, "未定级", "371002"),
    ("环翠区海岸社区诊所", InstitutionType.clinic, "未定级", "371002"),
    ("文登区安康内科诊所", InstitutionType.clinic, "未定级", "371003"),
    ("文登区惠民诊所", InstitutionType.clinic, "未定级", "371003"),
    ("荣成市济生诊所", InstitutionType.clinic, "未定级", "371082"),
    ("荣成市同心全科诊所", InstitutionType.clinic, "未定级", "371082"),
    ("环翠区岐黄中医诊所", InstitutionType.tcm_clinic, "未定级", "371002"),
    ("环翠区仲景中医诊所", InstitutionType.tcm_clinic, "未定级", "371002"),
    ("文登区本草堂中医诊所", InstitutionType.tcm_clinic, "未定级", "371003"),
    ("荣成市杏春中医诊所", InstitutionType.tcm_clinic, "未定级", "371082"),
    ("威海百草大药房环翠店", InstitutionType.pharmacy, "", "371002"),
    ("环翠区安和药店", InstitutionType.pharmacy, "", "371002"),
    ("环翠区民生大药房", InstitutionType.pharmacy, "", "371002"),
    ("环翠区德仁堂药店", InstitutionType.pharmacy, "", "371002"),
    ("威海惠康大药房文化路店", InstitutionType.pharmacy, "", "371002"),
    ("文登区利民药店", InstitutionType.pharmacy, "", "371003"),
    ("文登区寿康大药房", InstitutionType.pharmacy, "", "371003"),
    ("文登区仁济药店", InstitutionType.pharmacy, "", "371003"),
    ("荣成市益生堂药店", InstitutionType.pharmacy, "", "371082"),
    ("荣成市福瑞大药房", InstitutionType.pharmacy, "", "371082"),
    ("荣成市康源大药房", InstitutionType.pharmacy, "", "371082"),
    ("荣成市天润大药房", InstitutionType.pharmacy, "", "371082"),
    ("文登区颐和堂大药房", InstitutionType.pharmacy, "", "371003"),
]

PHYSICIANS_PER_TYPE = {
    InstitutionType.hospital: 6,
    InstitutionType.clinic: 2,
    InstitutionType.tcm_clinic: 2,
    InstitutionType.pharmacy: 0,
}
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀英华慧建国志红玉兰海燕平刚桂英晓东"
TITLES = ["主任医师", "副主任医师", "主治医师", "医师", "住院医师"]
DEPARTMENTS = {
    InstitutionType.hospital: ["内科", "外科", "儿科", "妇产科", "骨科", "急诊科"],
    InstitutionType.clinic: ["全科", "内科", "口腔科"],
    InstitutionType.tcm_clinic: ["中医内科", "针灸推拿科"],
}

# username, display name, role, region code, institution name (managers)
USERS: list[tuple[str, str, Role, str | None, str | None]] = [
    ("admin", "系统管理员", Role.admin, None, None),
    ("supervisor", "王建华（市局监管科）", Role.supervisor, CITY_CODE, None),
    ("supervisor.huancui", "李明（环翠分局）", Role.supervisor, "371002", None),
    ("inspector", "张伟", Role.inspector, "371002", None),
    ("inspector2", "刘芳", Role.inspector, "371002", None),
    ("inspector3", "陈静", Role.inspector, "371003", None),
    ("inspector4", "杨磊", Role.inspector, "371003", None),
    ("inspector5", "赵敏", Role.inspector, "371082", None),
    ("inspector6", "黄涛", Role.inspector, "371082", None),
    # City-level inspectors cover every county: with them 双随机 draws form cross-county pairs.
    ("inspector.city", "马晓东（市局）", Role.inspector, CITY_CODE, None),
    ("inspector.city2", "郑海燕（市局）", Role.inspector, CITY_CODE, None),
    ("manager", "周丽（医保办）", Role.manager, None, "威海海滨人民医院"),
    ("manager.clinic", "吴强", Role.manager, None, "环翠区仁和诊所"),
    ("manager.pharmacy", "徐娟", Role.manager, None, "威海百草大药房环翠店"),
    ("manager.wendeng", "孙超", Role.manager, None, "文登区利民药店"),
]

CHECKLIST_FOR_TYPE = {
    InstitutionType.hospital: "hospital-routine",
    InstitutionType.clinic: "clinic-routine",
    InstitutionType.tcm_clinic: "clinic-routine",
    InstitutionType.pharmacy: "pharmacy-routine",
}

# institution, inspectors, window start offset from today, days, kind
ASSIGNMENTS: list[tuple[str, tuple[str, str], int, int, AssignmentKind]] = [
    ("威海百草大药房环翠店", ("inspector", "inspector2"), 0, 3, AssignmentKind.routine),
    ("环翠区仁和诊所", ("inspector", "inspector2"), -1, 5, AssignmentKind.routine),
    ("威海海滨人民医院", ("inspector", "inspector2"), 3, 7, AssignmentKind.special),
    ("环翠区岐黄中医诊所", ("inspector", "inspector2"), -10, 5, AssignmentKind.random),
    ("环翠区安和药店", ("inspector", "inspector2"), 1, 10, AssignmentKind.random),
    ("文登区利民药店", ("inspector3", "inspector4"), 0, 5, AssignmentKind.routine),
    ("文登区第二人民医院", ("inspector3", "inspector4"), 2, 7, AssignmentKind.routine),
    # 飞行检查 is organised by the province or the city, not a county team: the city's inspectors.
    ("荣成市益生堂药店", ("inspector.city", "inspector.city2"), 0, 5, AssignmentKind.flight),
]


@dataclass(frozen=True)
class DemoLogin:
    username: str
    display_name: str
    role: str
    scope: str


class DemoRefused(Conflict):
    """Demo data is not created where it could mix with real data."""


def demo_password() -> str:
    """The password every demo account gets."""
    return os.environ.get("YIBAO_DEMO_PASSWORD") or DEFAULT_DEMO_PASSWORD


def _person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


async def demo_logins() -> list[DemoLogin]:
    """The demo accounts as they are in the database (for printing at start)."""
    rows = await User.select(
        User.username, User.display_name, User.role, User.region.name, User.institution.name
    ).where(User.username.is_in([u[0] for u in USERS]))
    order = {u[0]: i for i, u in enumerate(USERS)}
    return [
        DemoLogin(
            username=r["username"],
            display_name=r["display_name"],
            role=ROLE_LABELS[Role(r["role"])],
            scope=r["region.name"] or r["institution.name"] or "全部",
        )
        for r in sorted(rows, key=lambda r: order[r["username"]])
    ]


async def create_demo_data(settings: Settings, today: date | None = None) -> bool:
    """Create the demo data unless it is there already.

    Returns:
        True when created now, False when it already existed.

    Raises:
        DemoRefused: in production mode.
    """
    if settings.env == "production":
        raise DemoRefused("生产环境（YIBAO_ENV=production）不创建演示数据")
    if await Region.exists().where(Region.code == CITY_CODE):
        return False
    today = today or date.today()
    rng = random.Random(20260101)  # the same demo data on every machine
    actor = Actor.system("demo-data")
    password_hash = await hash_password_async(demo_password())
    versions = {
        r["checklist_id"]: r["id"]
        for r in await ChecklistVersion.select(
            ChecklistVersion.id, ChecklistVersion.checklist_id
        ).order_by(ChecklistVersion.version)
    }

    async with write_transaction():
        regions: dict[str, Any] = {}
        for code, name, office, parent in REGIONS:
            region = Region(
                code=code,
                name=name,
                office_short_name=office,
                parent=regions[parent].id if parent else None,
            )
            await region.save()
            regions[code] = region

        institutions: dict[str, Institution] = {}
        physicians: list[Physician] = []
        seq: dict[tuple[str, str], int] = {}
        for name, kind, level, county in INSTITUTIONS:
            # National codes: H for medical institutions, P for pharmacies, numbered per county.
            prefix = "P" if kind == InstitutionType.pharmacy else "H"
            n = seq[county, prefix] = seq.get((county, prefix), 0) + 1
            inst = Institution(
                code=f"{prefix}{county}{n:05d}",
                name=name,
                type=kind.value,
                level=level,
                region=regions[county].id,
                address=f"山东省威海市{regions[county].name}{rng.choice(STREETS[county])}"
                f"{rng.randint(1, 300)}号",
                contact_name=_person(rng),
                contact_phone=f"0631-{rng.randint(5000000, 5999999)}",
            )
            await inst.save()
            institutions[name] = inst
            for i in range(PHYSICIANS_PER_TYPE[kind]):
                physicians.append(
                    Physician(
                        institution=inst.id,
                        name=_person(rng),
                        certificate_no=f"1{county}{n:03d}{i:02d}{rng.randint(1000, 9999)}",
                        insurance_code=f"D{county}{n:03d}{i:03d}",
                        title=rng.choice(TITLES),
                        department=rng.choice(DEPARTMENTS[kind]),
                        registered_on=date(rng.randint(2019, 2025), rng.randint(1, 12), 1),
                    )
                )
        if physicians:
            await Physician.insert(*physicians)

        users: dict[str, User] = {}
        for n, (username, display, role, region_code, inst_name) in enumerate(USERS, start=1):
            user = User(
                username=username,
                display_name=display,
                password_hash=password_hash,
                role=role.value,
                region=regions[region_code].id if region_code else None,
                institution=institutions[inst_name].id if inst_name else None,
                # 执法证号 printed beside an inspector's name on notices (demo numbers).
                enforcement_cert_no=f"37100020{n:04d}"
                if role in (Role.inspector, Role.supervisor)
                else "",
            )
            await user.save()
            users[username] = user

        # A recorded relation (回避): 马晓东 is never drawn for the hospital he used to work at.
        await InspectorRelation(
            inspector=users["inspector.city"].id,
            institution=institutions["环翠区康宁骨科医院"].id,
            reason="曾在该医院任职（2019–2023年）",
            created_by=users["supervisor"].id,
        ).save()

        for inst_name, team, start, days, kind in ASSIGNMENTS:
            inst = institutions[inst_name]
            checklist_id = CHECKLIST_FOR_TYPE[InstitutionType(inst.type)]
            if checklist_id not in versions:
                continue  # checklists not loaded: assignments can be planned later
            assignment = Assignment(
                institution=inst.id,
                checklist=versions[checklist_id],
                kind=kind.value,
                window_start=today + timedelta(days=start),
                window_end=today + timedelta(days=start + days),
                created_by=users["supervisor"].id,
            )
            await assignment.save()
            await AssignmentInspector.insert(
                *[
                    AssignmentInspector(assignment=assignment.id, inspector=users[u].id)
                    for u in team
                ]
            )

        await record(
            actor,
            "demo.create",
            "region",
            regions[CITY_CODE].id,
            after={
                "regions": len(regions),
                "institutions": len(institutions),
                "physicians": len(physicians),
                "users": len(users),
            },
        )
    if len(versions) == len(set(CHECKLIST_FOR_TYPE.values())):
        # Work on the bureau's desk: notices with answers to accept, an objection, an overdue
        # notice (made through the real services, after the rows above are committed).
        from backend.rectification.demo import create_demo_rectifications
        from backend.storage import get_file_store

        await create_demo_rectifications(get_file_store(settings), today)
    return True
