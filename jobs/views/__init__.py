"""Function views, one module per area. URLs import the modules they route to."""
