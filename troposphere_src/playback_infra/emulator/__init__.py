"""The local AWS emulator: ministack with the EC2 provisioners it lacks, run as a subprocess."""
