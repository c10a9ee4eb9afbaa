package main

//book:replace a c
// // old exists in chapters a and b only: chapter c replaces it, and the
// // file is left with nothing but its package clause.
// func old() string { return "old" }
//book:end
