"""办件统计 for supervisors: cases by 办件状态, 超期率 and handling time in working days, as
services.platform.lifecycle_statistics defines them. The page /supervision/statistics reads the same
filters through :class:`LifecycleFilterArgs`."""
from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from engine.db import utcnow
from engine.fields import Date, Integer, Pattern
from services.platform import lifecycle_statistics as statistics
from web.api import api, documented
from web.api.paging import QueryString, query_args
from web.auth import api_login_required, current_actor
from web.context import uow


class LifecycleFilterArgs(QueryString):
    date_from = Date(data_key="from", load_default=None,
                     metadata={"description": "发起（环节：接收）日期起，北京时间，含当日"})
    date_to = Date(data_key="to", load_default=None,
                   metadata={"description": "发起（环节：接收）日期止，北京时间，含当日"})
    process = fields.String(load_default=None, validate=validate.Length(min=1, max=100),
                            metadata={"description": "流程代码"})
    region = fields.String(load_default=None, validate=Pattern(r"^[0-9]{6}$", error="区划代码应为 6 位数字"),
                           metadata={"description": "区划代码（含下级），须在督办范围内"})

    @validates_schema(skip_on_field_errors=False)  # reported together with any other bad parameter
    def _range_in_order(self, data: dict, **_kwargs) -> None:
        if data.get("date_from") and data.get("date_to") and data["date_to"] < data["date_from"]:
            raise ValidationError(statistics.REVERSED_RANGE, field_name="to")


def statistics_filter(args: dict) -> statistics.StatisticsFilter:
    """The service's filter from arguments loaded by LifecycleFilterArgs."""
    return statistics.StatisticsFilter(date_from=args.get("date_from"), date_to=args.get("date_to"),
                                       process_key=args.get("process"), region_code=args.get("region"))


class StatusCountSchema(Schema):
    status = fields.String(metadata={"description": "办件状态代码"})
    label = fields.String()
    count = Integer(minimum=0)


class ProcessStatusesSchema(Schema):
    process_key = fields.String()
    process_name = fields.String()
    total = Integer(minimum=0)
    statuses = fields.List(fields.Nested(StatusCountSchema))


class OverdueRateSchema(Schema):
    key = fields.String(metadata={"description": "流程代码或区划代码（合计为空）"})
    name = fields.String()
    clocked = Integer(minimum=0, metadata={"description": "计时办件数"})
    overdue = Integer(minimum=0, metadata={"description": "超期件数 = 超期办结 + 超期未结"})
    overdue_closed = Integer(minimum=0)
    overdue_open = Integer(minimum=0)
    rate = fields.Float(allow_none=True,
                        metadata={"description": "超期件数 ÷ 计时件数（0–1，四位小数）；无计时办件时为空"})


class OverdueRatesSchema(Schema):
    process = fields.List(fields.Nested(OverdueRateSchema))
    region = fields.List(fields.Nested(OverdueRateSchema))
    total = fields.Nested(OverdueRateSchema)


class DurationSchema(Schema):
    key = fields.String()
    name = fields.String()
    count = Integer(minimum=0)
    average = fields.Float(metadata={"description": "平均工作日（两位小数）"})
    p90 = Integer(minimum=0, metadata={"description": "P90 工作日（最近秩法）"})


class StepDurationSchema(Schema):
    process_key = fields.String()
    process_name = fields.String()
    step = fields.String(metadata={"description": "环节（BPMN 元素 id）"})
    label = fields.String()
    count = Integer(minimum=0)
    average = fields.Float()
    p90 = Integer(minimum=0)


class HandlingTimeSchema(Schema):
    process = fields.List(fields.Nested(DurationSchema))
    region = fields.List(fields.Nested(DurationSchema))
    step = fields.List(fields.Nested(StepDurationSchema))
    capped = fields.Boolean(metadata={"description": "超过 row_limit 件时只统计最新的 row_limit 件办件和环节"})
    row_limit = Integer(minimum=0)


class UrgeCountSchema(Schema):
    process_key = fields.String()
    process_name = fields.String()
    urges = Integer(minimum=0)
    by_applicant = Integer(minimum=0)
    cases = Integer(minimum=0)


class RatingCountSchema(Schema):
    process_key = fields.String()
    process_name = fields.String()
    grades = fields.Dict(keys=fields.String(), values=Integer(minimum=0), metadata={"description": "等级 5…1 → 评价数"})
    total = Integer(minimum=0)
    poor_rate = fields.Float(allow_none=True, metadata={"description": "差评率：不满意与非常不满意 ÷ 全部评价"})


class LifecycleStatisticsSchema(Schema):
    by_status = fields.List(fields.Nested(ProcessStatusesSchema))
    overdue_rate = fields.Nested(OverdueRatesSchema)
    handling_time = fields.Nested(HandlingTimeSchema)
    urges = fields.List(fields.Nested(UrgeCountSchema))
    ratings = fields.List(fields.Nested(RatingCountSchema))


@api.get("/statistics/lifecycle")
@api_login_required
@documented("办件统计（督办人员、系统管理员，本辖区）：办件状态、超期率、办理时长（工作日，平均与 P90）、催办、好差评",
            response=LifecycleStatisticsSchema, query=LifecycleFilterArgs)
def lifecycle_statistics():
    flt = statistics_filter(query_args(LifecycleFilterArgs))
    stats = statistics.lifecycle_statistics(uow().session, current_actor(), flt, utcnow())
    return LifecycleStatisticsSchema().dump(stats)
