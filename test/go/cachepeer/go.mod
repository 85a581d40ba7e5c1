module cachepeer

go 1.19
