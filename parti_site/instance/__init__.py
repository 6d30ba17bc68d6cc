"""What the operator sets in /admin/ without a restart: cache times per upstream endpoint,
the instance switches (segment mode, image proxy, quality cap, public chat, banner), and
the upstream health page. `store.current()` is how the rest of the site reads them."""
