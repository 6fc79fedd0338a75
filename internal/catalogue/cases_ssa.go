package catalogue

func ssaCases() []*Case {
	return nil
}
