"""Real media for the offline generators and the stitcher: fonts, H.264 clips, PNG cards."""
