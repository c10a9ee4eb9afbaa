// Package chapters stands in for the real chapter list in this test tree.
package chapters
