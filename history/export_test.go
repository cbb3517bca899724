package history

// Parse and ParseInPieces expose the reader's two ways through a file to
// the external tests: whole, and split into chunks of a few bytes (each
// grown to hold a line), each cut into pieces of at least one byte read
// side by side.
var Parse = parse

func ParseInPieces(data []byte, name string) (*History, error) {
	defer func(m, c int) { pieceMin, chunkSize = m, c }(pieceMin, chunkSize)
	pieceMin, chunkSize = 1, 7
	return parse(data, name)
}
