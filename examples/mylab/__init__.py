"""A lab's own plug-ins, outside airnet: registered on import (``plugins=[mylab.top]``)."""
