"""Page script: see `custseg.dashboard.views.segment_map`."""

from custseg.dashboard.shell import show
from custseg.dashboard.views import segment_map

show(segment_map.page)
