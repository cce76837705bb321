"""The rule of an alert, with no database: when a figure crosses its threshold, when the alert is armed
again, and when it repeats. The worker (panel/alerts/evaluate.py) applies it to the stored state.

An alert is armed or fired. Armed, it fires when the figure crosses (`value <op> threshold`) and is then
fired. Fired, it is armed again once the figure has gone back past the reset level (for a "<"/"<=" alert:
value >= reset; for ">"/">=": value <= reset; without a reset level: as soon as the figure is no longer
crossed), and nothing fires at that step. While fired and still crossed, it fires again when `repeat`
has passed since it last fired (no repeat: never). A step without a figure (no traffic in the last hour)
changes nothing.
"""
import operator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

COMPARE = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


@dataclass(frozen=True)
class Rule:
    operator: str
    threshold: Decimal
    reset: Decimal | None = None
    repeat: timedelta | None = None

    @property
    def falling(self) -> bool:
        """Fires when the figure goes down (a low balance), not up (too many channels)."""
        return self.operator in ("<", "<=")

    def crossed(self, value: Decimal) -> bool:
        return COMPARE[self.operator](value, self.threshold)

    def rearmed(self, value: Decimal) -> bool:
        if self.reset is None:
            return not self.crossed(value)
        return value >= self.reset if self.falling else value <= self.reset


@dataclass(frozen=True)
class State:
    crossed: bool = False  # fired and not yet armed again
    last_fired_at: datetime | None = None


def reset_problem(operator_: str, threshold: Decimal, reset: Decimal | None) -> str | None:
    """Why a reset level cannot work with this threshold (it must lie on the side where the alert is quiet)."""
    if reset is None:
        return None
    rule = Rule(operator_, threshold, reset)
    if rule.crossed(reset):
        side = "at or above" if rule.falling else "at or below"
        return f"The reset level must be where the alert is not crossed: {side} the threshold."
    return None


def step(rule: Rule, state: State, value: Decimal | None, now: datetime) -> tuple[State, bool]:
    """The state after seeing `value` at `now`, and whether the alert fires."""
    if value is None:
        return state, False
    if not state.crossed:
        if rule.crossed(value):
            return State(True, now), True
        return state, False
    if rule.rearmed(value):
        return State(False, state.last_fired_at), False
    if rule.crossed(value) and rule.repeat is not None and (
            state.last_fired_at is None or now - state.last_fired_at >= rule.repeat):
        return State(True, now), True
    return state, False
