package service

// On macOS kith is a launchd agent of the user's login session.
func platformManager(s *system) manager { return launchd{s} }

func platformSystem(*system) {}
