package service

// On Linux kith is a systemd user service.
func platformManager(s *system) manager { return systemd{s} }

func platformSystem(*system) {}
