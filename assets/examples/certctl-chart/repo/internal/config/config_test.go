package config

import (
	"errors"
	"strconv"
	"testing"
	"time"
)

func TestDenyEmptyRefusesEmptyToken(t *testing.T) {
	c := &Config{AgentBootstrapTokenDenyEmpty: true}
	if err := c.Validate(time.Now()); !errors.Is(err, ErrAgentBootstrapTokenRequired) {
		t.Fatalf("got %v", err)
	}
}

func TestACMEInsecurePairing(t *testing.T) {
	for _, tc := range []struct {
		name    string
		cfg     Config
		wantErr error
	}{
		{"neither", Config{}, nil},
		{"both", Config{ACMEInsecure: true, ACMEInsecureAck: true}, nil},
		{"insecure alone", Config{ACMEInsecure: true}, ErrACMEInsecureWithoutAck},
		{"ack alone", Config{ACMEInsecureAck: true}, ErrACMEInsecureWithoutAck},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate(time.Now())
			if tc.wantErr == nil && err != nil || tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("got %v, want %v", err, tc.wantErr)
			}
		})
	}
}

func TestDemoAckOlderThanADayRefused(t *testing.T) {
	now := time.Now()
	c := &Config{DemoModeAck: true, DemoModeAckTS: strconv.FormatInt(now.Add(-25*time.Hour).Unix(), 10)}
	if err := c.Validate(now); !errors.Is(err, ErrDemoModeAckExpired) {
		t.Fatalf("got %v", err)
	}
}
