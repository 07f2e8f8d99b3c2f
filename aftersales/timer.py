"""``@configured_timer(setting, default)``: nameko's ``@timer`` with its interval read from the
service's configuration (``AFTERSALES[setting]``) at setup, so that tests run a scan every
fraction of a second and operators can slow one down without a code change."""
from __future__ import annotations

from nameko.timer import Timer


class ConfiguredTimer(Timer):
    def __init__(self, setting: str, default: float, **kwargs):
        kwargs.setdefault("eager", False)
        super().__init__(interval=default, **kwargs)
        self.setting = setting

    def setup(self):
        self.interval = float(self.container.config.get("AFTERSALES", {})
                              .get(self.setting, self.interval))
        super().setup()


configured_timer = ConfiguredTimer.decorator
