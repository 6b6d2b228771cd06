"""Baseball Playback's AWS deployment: environment model, troposphere stacks and checks."""
