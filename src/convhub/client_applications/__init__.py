"""Client applications: the callbacks that receive messages for a customer, bot or agent role."""
