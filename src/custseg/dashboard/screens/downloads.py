"""Page script: see `custseg.dashboard.views.downloads`."""

from custseg.dashboard.shell import show
from custseg.dashboard.views import downloads

show(downloads.page)
