"""Page script: see `custseg.dashboard.views.customer`."""

from custseg.dashboard.shell import show
from custseg.dashboard.views import customer

show(customer.page)
