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

func TestACMEAckAloneRefused(t *testing.T) {
	c := &Config{ACMEInsecureAck: true}
	if err := c.Validate(time.Now()); !errors.Is(err, ErrACMEInsecureWithoutAck) {
		t.Fatalf("got %v", err)
	}
}

func TestDemoAckOlderThanADayRefused(t *testing.T) {
	now := time.Now()
	c := &Config{DemoModeAck: true, DemoModeAckTS: strconv.FormatInt(now.Add(-25*time.Hour).Unix(), 10)}
	if err := c.Validate(now); !errors.Is(err, ErrDemoModeAckExpired) {
		t.Fatalf("got %v", err)
	}
}
