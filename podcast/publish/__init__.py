"""Publishing: the episode's files beside the MP3 (chapters, transcripts, notes) and the feed."""
