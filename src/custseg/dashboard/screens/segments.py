"""Page script: see `custseg.dashboard.views.overview`."""

from custseg.dashboard.shell import show
from custseg.dashboard.views import overview

show(overview.page)
