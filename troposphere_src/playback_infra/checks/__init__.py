"""Policy and safety checks run by `playback-infra check`, `make synth`, the tests and CI."""
