package history

// Parse and ParseInPieces expose the reader's two ways through a file to
// the external tests: whole, and split into pieces of at least one byte
// read side by side.
var Parse = parse

func ParseInPieces(data []byte, name string) (*History, error) {
	defer func(m int) { pieceMin = m }(pieceMin)
	pieceMin = 1
	return parse(data, name)
}
