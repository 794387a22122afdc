//go:build !linux && !darwin && !windows

package service

import "context"

// Elsewhere (the BSDs, ...) kith knows no service manager.
func platformManager(*system) manager { return unsupported{} }

func platformSystem(*system) {}

// unsupported says so for every operation.
type unsupported struct{}

func (unsupported) check(context.Context) error { return ErrUnsupported }
func (unsupported) status(context.Context, Spec) Status {
	return Status{Manager: "none", State: "unknown"}
}
func (unsupported) installPlan(context.Context, Spec, Status) (*Plan, error) {
	return nil, ErrUnsupported
}
func (unsupported) install(context.Context, *Plan, Spec) error  { return ErrUnsupported }
func (unsupported) uninstallPlan(context.Context, Status) *Plan { return &Plan{Manager: "none"} }
func (unsupported) uninstall(context.Context, *Plan) error      { return ErrUnsupported }
