"""The corridor explorer: an interactive web app to teach U-shaped dose-response curves.

`mgrisk explore` serves it on 127.0.0.1 (`mgrisk.explore.app`, needs ``pip install
"mgrisk[app]"``). The pure functions behind it (`mgrisk.explore.model`, `mgrisk.explore.truth`,
`mgrisk.explore.figures`) need only mgrisk's own dependencies.
"""

__all__: list[str] = []
