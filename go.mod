module github.com/mocpcr/mocpcr

go 1.26.8
