"""Sending by each sender's office calendar: working days, windows, Vietnamese holidays, quotas
(``calendar``, pure), one scheduler tick and the ``outreach run`` loop (``scheduler``), and the forecast
``outreach schedule show`` prints (``plan``), and the reminders due by that calendar (``reminders``)."""

from .calendar import CampaignForecast, DayPlan, OfficeCalendar, Workload, forecast, vietnam_holiday
from .presence import SchedulerStatus, scheduler_status
from .plan import CampaignOutlook, SchedulePlan, SenderSchedule, format_plan, schedule_plan, show_schedule
from .reminders import ReminderReport, build_reminders
from .scheduler import CampaignTick, SenderTick, TickReport, active_campaigns, run_scheduler, tick

__all__ = [
    "CampaignForecast",
    "CampaignOutlook",
    "CampaignTick",
    "DayPlan",
    "OfficeCalendar",
    "ReminderReport",
    "SchedulePlan",
    "SchedulerStatus",
    "SenderSchedule",
    "SenderTick",
    "TickReport",
    "Workload",
    "active_campaigns",
    "build_reminders",
    "forecast",
    "format_plan",
    "run_scheduler",
    "schedule_plan",
    "scheduler_status",
    "show_schedule",
    "tick",
    "vietnam_holiday",
]
