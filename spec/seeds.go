package spec

import (
	"fmt"
	"strconv"

	"github.com/goccy/go-yaml/ast"
)

// UnmarshalYAML reads seeds: a count, or a list of seeds.
func (s *Seeds) UnmarshalYAML(node ast.Node) error {
	s.given = true
	switch n := node.(type) {
	case *ast.IntegerNode:
		c, err := strconv.Atoi(n.String())
		if err != nil {
			return fmt.Errorf("seeds: %s is not a count", n.String())
		}
		s.Count = c
		return nil
	case *ast.SequenceNode:
		for _, v := range n.Values {
			u, err := strconv.ParseUint(v.String(), 10, 64)
			if err != nil {
				return fmt.Errorf("seeds: %s is not a seed (an integer from 0)", v.String())
			}
			s.List = append(s.List, u)
		}
		return nil
	}
	return fmt.Errorf("seeds: want a count (3) or a list of seeds ([1, 7, 42]), not %s", node.String())
}

// All returns the seeds, 1 to Count or the List (1 if neither). Check
// the count first (Parse does): All makes the list.
func (s Seeds) All() []uint64 {
	if len(s.List) > 0 {
		return s.List
	}
	out := make([]uint64, max(s.Count, 1))
	for i := range out {
		out[i] = uint64(i + 1)
	}
	return out
}
