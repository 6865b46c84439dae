"""Two-factor authentication: TOTP devices and recovery codes (devices), the setup and verify
pages (views, urls) and the middleware that asks for the second factor."""
