"""Audio: the timeline of clips and music, ffmpeg, MP3 frames, loudness, encoding in sections."""
