// Package config reads the server's settings from the environment and
// refuses to start on unsafe combinations.
package config

import (
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Fail-closed sentinels returned by Validate; tests match them with errors.Is.
var (
	// CERTCTL_AGENT_BOOTSTRAP_TOKEN_DENY_EMPTY=true with an empty token (SEC-H1).
	ErrAgentBootstrapTokenRequired = errors.New("CERTCTL_AGENT_BOOTSTRAP_TOKEN is empty and CERTCTL_AGENT_BOOTSTRAP_TOKEN_DENY_EMPTY=true")
	// CERTCTL_ACME_INSECURE and CERTCTL_ACME_INSECURE_ACK not set together (SEC-M4).
	ErrACMEInsecureWithoutAck = errors.New("CERTCTL_ACME_INSECURE and CERTCTL_ACME_INSECURE_ACK must both be true, or neither")
)

// ErrDemoModeAckExpired: CERTCTL_DEMO_MODE_ACK=true without a timestamp from the last 24h (SEC-H3).
var ErrDemoModeAckExpired = errors.New("CERTCTL_DEMO_MODE_ACK needs CERTCTL_DEMO_MODE_ACK_TS within the last 24h")

type Config struct {
	AgentBootstrapToken          string
	AgentBootstrapTokenDenyEmpty bool
	ACMEInsecure                 bool
	ACMEInsecureAck              bool
	DemoModeAck                  bool
	DemoModeAckTS                string
	MigrationsViaHook            bool
}

func (c *Config) Validate(now time.Time) error {
	if c.AgentBootstrapTokenDenyEmpty && c.AgentBootstrapToken == "" {
		return ErrAgentBootstrapTokenRequired
	}
	if c.ACMEInsecure != c.ACMEInsecureAck {
		return ErrACMEInsecureWithoutAck
	}
	if c.DemoModeAck {
		ts, err := strconv.ParseInt(c.DemoModeAckTS, 10, 64)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrDemoModeAckExpired, err)
		}
		at := time.Unix(ts, 0)
		if now.Sub(at) > 24*time.Hour || at.Sub(now) > time.Minute {
			return ErrDemoModeAckExpired
		}
	}
	return nil
}
