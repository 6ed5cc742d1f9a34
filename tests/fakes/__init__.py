"""Fakes of third-party network services, as real servers on loopback."""
