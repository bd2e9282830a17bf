"""Page script: see `custseg.dashboard.views.rules`."""

from custseg.dashboard.shell import show
from custseg.dashboard.views import rules

show(rules.page)
