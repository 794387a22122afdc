package service

import (
	"errors"
	"fmt"
	"os/exec"
	"syscall"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/registry"
)

// On Windows kith starts from the user's Run registry key (runkey.go says
// why not a scheduled task).
func platformManager(s *system) manager { return runKeyManager{s} }

func platformSystem(s *system) {
	k, _, err := registry.CreateKey(registry.CURRENT_USER, runKeyPath, registry.QUERY_VALUE|registry.SET_VALUE)
	if err == nil {
		// The key stays open for the life of this short command.
		s.runKey = registryRunKey{k}
	}
	s.start = startDetached
}

// registryRunKey is the Run key in the registry.
type registryRunKey struct{ k registry.Key }

func (r registryRunKey) Get(name string) (string, bool, error) {
	v, _, err := r.k.GetStringValue(name)
	if errors.Is(err, registry.ErrNotExist) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return v, true, nil
}

func (r registryRunKey) Set(name, value string) error { return r.k.SetStringValue(name, value) }

func (r registryRunKey) Delete(name string) error {
	if err := r.k.DeleteValue(name); err != nil && !errors.Is(err, registry.ErrNotExist) {
		return err
	}
	return nil
}

// startDetached starts the daemon as its own process: no console window,
// not ended with this one.
func startDetached(exe string, args []string) error {
	cmd := exec.Command(exe, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{
		CreationFlags: windows.DETACHED_PROCESS | windows.CREATE_NEW_PROCESS_GROUP,
		HideWindow:    true,
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("run %s: %w", exe, err)
	}
	return cmd.Process.Release()
}
