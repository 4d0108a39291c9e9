Console.WriteLine("clipsearch");
