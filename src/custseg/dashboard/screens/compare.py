"""Page script: see `custseg.dashboard.views.compare`."""

from custseg.dashboard.shell import show_store
from custseg.dashboard.views import compare

show_store(compare.page)
