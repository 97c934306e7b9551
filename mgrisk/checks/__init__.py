"""Model checks of a Cox fit: proportional hazards, effects that change with time, functional
form, discrimination and influence (each in its own module; `DoseResponse` has thin methods)."""

__all__: list[str] = []
