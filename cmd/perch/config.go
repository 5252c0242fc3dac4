package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/perch-hq/perch/api"
	"github.com/perch-hq/perch/ratelimit"
)

// Config is every setting, read from the environment. Fields tagged secret
// are masked wherever the config is printed.
type Config struct {
	Addr            string        `env:"PERCH_ADDR"`
	PublicURL       string        `env:"PERCH_PUBLIC_URL"`
	DataDir         string        `env:"PERCH_DATA_DIR"`
	DatabaseURL     string        `env:"PERCH_DATABASE_URL" secret:"password"`
	Demo            string        `env:"PERCH_DEMO"`
	BootstrapToken  string        `env:"PERCH_BOOTSTRAP_TOKEN" secret:"all"`
	LogLevel        string        `env:"PERCH_LOG_LEVEL"`
	LogFormat       string        `env:"PERCH_LOG_FORMAT"`
	ShutdownTimeout time.Duration `env:"PERCH_SHUTDOWN_TIMEOUT"`
	WorkerInterval  time.Duration `env:"PERCH_WORKER_INTERVAL"`
	// AutoMigrate applies pending migrations at start (default). With
	// false, serve refuses to start on a schema that is behind: a separate
	// `perch migrate up` (the Helm chart's hook Job) owns migrations.
	AutoMigrate bool `env:"PERCH_AUTO_MIGRATE"`

	// Hardening (docs/OPERATIONS.md).
	RateLimits     api.RateLimits // PERCH_RATE_LIMIT_PAIRING, _KIOSK_TOKEN, _USER_TOKENS, _KIOSK
	TrustedProxies []netip.Prefix `env:"PERCH_TRUSTED_PROXIES"`
	CORSOrigins    []string       `env:"PERCH_CORS_ORIGINS"`
	DBMaxConns     int            `env:"PERCH_DB_MAX_CONNS"`
	DBMaxIdleConns int            `env:"PERCH_DB_MAX_IDLE_CONNS"`
	DBConnLifetime time.Duration  `env:"PERCH_DB_CONN_MAX_LIFETIME"`
	BodyLimit      int            `env:"PERCH_HTTP_BODY_LIMIT"`
	ReadTimeout    time.Duration  `env:"PERCH_HTTP_READ_TIMEOUT"`
	WriteTimeout   time.Duration  `env:"PERCH_HTTP_WRITE_TIMEOUT"`
	IdleTimeout    time.Duration  `env:"PERCH_HTTP_IDLE_TIMEOUT"`
}

// Default rate limits: generous for people and devices, tight enough to
// stop guessing and floods.
var defaultRateLimits = map[string]string{
	"PERCH_RATE_LIMIT_PAIRING":     "20/1m",
	"PERCH_RATE_LIMIT_KIOSK_TOKEN": "60/1m",
	"PERCH_RATE_LIMIT_USER_TOKENS": "30/1m",
	"PERCH_RATE_LIMIT_KIOSK":       "120/1m",
}

// loadConfig reads and validates the configuration; every problem is named.
func loadConfig(getenv func(string) string) (Config, error) {
	c := Config{
		Addr:            ":8080",
		DataDir:         "./data",
		Demo:            "auto",
		LogLevel:        "info",
		LogFormat:       "text",
		ShutdownTimeout: 20 * time.Second,
		WorkerInterval:  30 * time.Second,
		AutoMigrate:     true,
		DBConnLifetime:  30 * time.Minute,
		BodyLimit:       8 << 20,
		ReadTimeout:     30 * time.Second,
		WriteTimeout:    60 * time.Second,
		IdleTimeout:     120 * time.Second,
	}
	str := func(dst *string, key string) {
		if v := strings.TrimSpace(getenv(key)); v != "" {
			*dst = v
		}
	}
	str(&c.Addr, "PERCH_ADDR")
	str(&c.PublicURL, "PERCH_PUBLIC_URL")
	str(&c.DataDir, "PERCH_DATA_DIR")
	str(&c.DatabaseURL, "PERCH_DATABASE_URL")
	str(&c.Demo, "PERCH_DEMO")
	c.BootstrapToken = strings.TrimSpace(getenv("PERCH_BOOTSTRAP_TOKEN"))
	str(&c.LogLevel, "PERCH_LOG_LEVEL")
	str(&c.LogFormat, "PERCH_LOG_FORMAT")

	var errs []error
	if v := strings.TrimSpace(getenv("PERCH_SHUTDOWN_TIMEOUT")); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 || d > 10*time.Minute {
			errs = append(errs, fmt.Errorf("PERCH_SHUTDOWN_TIMEOUT=%q: want a duration like 20s (at most 10m)", v))
		} else {
			c.ShutdownTimeout = d
		}
	}
	if v := strings.TrimSpace(getenv("PERCH_WORKER_INTERVAL")); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Second || d > time.Hour {
			errs = append(errs, fmt.Errorf("PERCH_WORKER_INTERVAL=%q: want a duration from 1s to 1h, like 30s", v))
		} else {
			c.WorkerInterval = d
		}
	}
	for key, dst := range map[string]*ratelimit.Limit{
		"PERCH_RATE_LIMIT_PAIRING": &c.RateLimits.Pairing, "PERCH_RATE_LIMIT_KIOSK_TOKEN": &c.RateLimits.KioskToken,
		"PERCH_RATE_LIMIT_USER_TOKENS": &c.RateLimits.UserTokens, "PERCH_RATE_LIMIT_KIOSK": &c.RateLimits.Kiosk,
	} {
		v := strings.TrimSpace(getenv(key))
		if v == "" {
			v = defaultRateLimits[key]
		}
		l, err := ratelimit.Parse(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s=%q: %v", key, v, err))
		}
		*dst = l
	}
	if v := strings.TrimSpace(getenv("PERCH_TRUSTED_PROXIES")); v != "" {
		for _, f := range strings.Split(v, ",") {
			f = strings.TrimSpace(f)
			p, err := netip.ParsePrefix(f)
			if err != nil {
				a, aerr := netip.ParseAddr(f)
				if aerr != nil {
					errs = append(errs, fmt.Errorf("PERCH_TRUSTED_PROXIES: %q is not an IP address or CIDR like 10.0.0.0/8", f))
					continue
				}
				p = netip.PrefixFrom(a, a.BitLen())
			}
			c.TrustedProxies = append(c.TrustedProxies, p.Masked())
		}
	}
	if v := strings.TrimSpace(getenv("PERCH_CORS_ORIGINS")); v != "" {
		for _, o := range strings.Split(v, ",") {
			o = strings.TrimRight(strings.TrimSpace(o), "/")
			u, err := url.Parse(o)
			if o != "*" && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "") {
				errs = append(errs, fmt.Errorf("PERCH_CORS_ORIGINS: %q is not an origin like https://app.example.com (or *)", o))
				continue
			}
			c.CORSOrigins = append(c.CORSOrigins, o)
		}
	}
	intVar := func(dst *int, key string, lo, hi int) {
		if v := strings.TrimSpace(getenv(key)); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < lo || n > hi {
				errs = append(errs, fmt.Errorf("%s=%q: want a whole number from %d to %d", key, v, lo, hi))
				return
			}
			*dst = n
		}
	}
	durVar := func(dst *time.Duration, key string, lo, hi time.Duration) {
		if v := strings.TrimSpace(getenv(key)); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil || d < lo || d > hi {
				errs = append(errs, fmt.Errorf("%s=%q: want a duration from %s to %s", key, v, lo, hi))
				return
			}
			*dst = d
		}
	}
	switch v := strings.TrimSpace(getenv("PERCH_AUTO_MIGRATE")); v {
	case "", "true", "1":
	case "false", "0":
		c.AutoMigrate = false
	default:
		errs = append(errs, fmt.Errorf("PERCH_AUTO_MIGRATE=%q: want true or false", v))
	}
	intVar(&c.DBMaxConns, "PERCH_DB_MAX_CONNS", 1, 1000)
	intVar(&c.DBMaxIdleConns, "PERCH_DB_MAX_IDLE_CONNS", 1, 1000)
	durVar(&c.DBConnLifetime, "PERCH_DB_CONN_MAX_LIFETIME", time.Minute, 24*time.Hour)
	intVar(&c.BodyLimit, "PERCH_HTTP_BODY_LIMIT", 64<<10, 256<<20)
	durVar(&c.ReadTimeout, "PERCH_HTTP_READ_TIMEOUT", time.Second, time.Hour)
	durVar(&c.WriteTimeout, "PERCH_HTTP_WRITE_TIMEOUT", time.Second, time.Hour)
	durVar(&c.IdleTimeout, "PERCH_HTTP_IDLE_TIMEOUT", time.Second, time.Hour)

	host, port, err := net.SplitHostPort(c.Addr)
	if err != nil || port == "" {
		errs = append(errs, fmt.Errorf("PERCH_ADDR=%q: want host:port or :port, like :8080", c.Addr))
	}
	if c.PublicURL == "" {
		h := host
		if h == "" || h == "0.0.0.0" || h == "::" {
			h = "localhost"
		}
		c.PublicURL = "http://" + net.JoinHostPort(h, port)
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("PERCH_PUBLIC_URL=%q: want an absolute http(s) URL, like https://perch.example.com", c.PublicURL))
	}
	switch c.Demo {
	case "auto", "true", "false":
	default:
		errs = append(errs, fmt.Errorf("PERCH_DEMO=%q: want auto, true or false", c.Demo))
	}
	if d := c.DatabaseURL; d != "" && !strings.HasPrefix(d, "postgres://") && !strings.HasPrefix(d, "postgresql://") &&
		!strings.HasPrefix(d, "sqlite:") && !strings.HasPrefix(d, "file:") {
		errs = append(errs, errors.New("PERCH_DATABASE_URL: want empty (embedded SQLite in PERCH_DATA_DIR), postgres://… or sqlite:PATH"))
	} else if strings.HasPrefix(d, "postgres") {
		if _, err := url.Parse(d); err != nil {
			errs = append(errs, errors.New("PERCH_DATABASE_URL is not a valid URL"))
		}
	}
	if t := c.BootstrapToken; t != "" && len(t) < 24 {
		errs = append(errs, errors.New("PERCH_BOOTSTRAP_TOKEN: use at least 24 random characters (for example: openssl rand -hex 24)"))
	}
	if _, err := parseLevel(c.LogLevel); err != nil {
		errs = append(errs, err)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("PERCH_LOG_FORMAT=%q: want text or json", c.LogFormat))
	}
	if len(errs) > 0 {
		return c, fmt.Errorf("invalid configuration:\n  %w", errors.Join(errs...))
	}
	return c, nil
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("PERCH_LOG_LEVEL=%q: want debug, info, warn or error", s)
	}
	return l, nil
}

// Masked returns the configuration as key/value pairs safe to print: the
// database password is redacted and the bootstrap token shown only as set.
func (c Config) Masked() []any {
	db := "embedded SQLite in " + c.DataDir
	if c.DatabaseURL != "" {
		db = c.DatabaseURL
		if u, err := url.Parse(c.DatabaseURL); err == nil {
			db = u.Redacted()
		}
	}
	boot := "unset"
	if c.BootstrapToken != "" {
		boot = "set (masked)"
	}
	return []any{
		"PERCH_ADDR", c.Addr, "PERCH_PUBLIC_URL", c.PublicURL, "PERCH_DATA_DIR", c.DataDir,
		"PERCH_DATABASE_URL", db, "PERCH_DEMO", c.Demo, "PERCH_BOOTSTRAP_TOKEN", boot,
		"PERCH_LOG_LEVEL", c.LogLevel, "PERCH_LOG_FORMAT", c.LogFormat, "PERCH_SHUTDOWN_TIMEOUT", c.ShutdownTimeout.String(),
		"PERCH_WORKER_INTERVAL", c.WorkerInterval.String(), "PERCH_AUTO_MIGRATE", strconv.FormatBool(c.AutoMigrate),
		"PERCH_RATE_LIMIT_PAIRING", c.RateLimits.Pairing.String(), "PERCH_RATE_LIMIT_KIOSK_TOKEN", c.RateLimits.KioskToken.String(),
		"PERCH_RATE_LIMIT_USER_TOKENS", c.RateLimits.UserTokens.String(), "PERCH_RATE_LIMIT_KIOSK", c.RateLimits.Kiosk.String(),
		"PERCH_TRUSTED_PROXIES", fmt.Sprint(c.TrustedProxies), "PERCH_CORS_ORIGINS", strings.Join(c.CORSOrigins, ","),
		"PERCH_DB_MAX_CONNS", strconv.Itoa(c.DBMaxConns), "PERCH_DB_MAX_IDLE_CONNS", strconv.Itoa(c.DBMaxIdleConns), "PERCH_DB_CONN_MAX_LIFETIME", c.DBConnLifetime.String(),
		"PERCH_HTTP_BODY_LIMIT", strconv.Itoa(c.BodyLimit), "PERCH_HTTP_READ_TIMEOUT", c.ReadTimeout.String(),
		"PERCH_HTTP_WRITE_TIMEOUT", c.WriteTimeout.String(), "PERCH_HTTP_IDLE_TIMEOUT", c.IdleTimeout.String(),
	}
}

// newLogger builds the process logger (to stderr; stdout is for what a
// person asked to see, like demo tokens).
func newLogger(c Config, w io.Writer) *slog.Logger {
	level, _ := parseLevel(c.LogLevel)
	opts := &slog.HandlerOptions{Level: level}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
