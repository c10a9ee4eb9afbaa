package main

type (
	// Point is a place on the grid.
	Point struct{ X, Y int }

	// Size is a width and a height.
	Size struct{ W, H int }
)

// Area is how much room a size takes.
func (s *Size) Area() int { return s.W * s.H }

// Double scales a point by two.
func Double(p Point) Point {
	return Point{p.X * 2, p.Y * 2}
}
