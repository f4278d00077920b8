"""Reading what a person submitted in a modal: Slack's `view.state.values`, flattened."""

from __future__ import annotations

from typing import Any


def state_values(view: dict[str, Any]) -> dict[str, Any]:
    """Slack's `view.state.values` flattened to block id -> plain value (str, list or None)."""
    values: dict[str, Any] = {}
    for block_id, elements in (view.get("state") or {}).get("values", {}).items():
        for element in elements.values():
            values[block_id] = _element_value(element)
    return values


def _element_value(element: dict[str, Any]) -> Any:
    kind = element.get("type")
    if kind == "datepicker":
        return element.get("selected_date")
    if kind in ("static_select", "external_select", "radio_buttons"):
        return (element.get("selected_option") or {}).get("value")
    if kind in ("multi_static_select", "checkboxes"):
        return [option.get("value") for option in element.get("selected_options") or []]
    if kind == "multi_users_select":
        return list(element.get("selected_users") or [])
    if kind == "users_select":
        return element.get("selected_user")
    return element.get("value")
