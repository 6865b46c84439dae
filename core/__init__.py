"""The ground floor: small helpers every app may use. Imports Django only, never an app."""
