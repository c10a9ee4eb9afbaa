//book:file c

package main

// extra exists from chapter c on.
func extra() string { return "extra" }
